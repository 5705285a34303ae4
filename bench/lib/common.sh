# Shared by the benchmark scripts (sourced, not run; `make bench` runs only
# bench/*.sh). Expects $brisk (the binary) and $tmp (a scratch dir).

# Background processes to stop on exit: append PIDs to pids.
pids=()
bench_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_dataset SCALE END: generates and imports a data set into org acme
# once per scale under /tmp/brisk-bench-SCALE (reused afterwards); sets
# data_root, data and token.
bench_dataset() {
	data_root=/tmp/brisk-bench-$1
	if [ ! -f "$data_root/.ready" ]; then
		echo "$(basename "$0"): generating and importing scale $1 into $data_root (once; minutes at scale 100)" >&2
		rm -rf "$data_root"
		mkdir -p "$data_root"
		"$brisk" gen --scale "$1" --seed 42 --end "$2" --out "$data_root/csv" >&2
		for k in costs sales_orders invoices payments leads; do
			"$brisk" import "$k" "$data_root/csv/$k.csv" --org acme --data "$data_root/data" -q >&2
		done
		"$brisk" token create --org acme --data "$data_root/data" >"$data_root/token"
		touch "$data_root/.ready"
	fi
	data=$data_root/data
	token=$(cat "$data_root/token")
}
