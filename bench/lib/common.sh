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

# bench_serve DATA_DIR [serve args...]: starts `brisk serve` on a free port
# (BRISK_TODAY=$end when set) and waits for it to listen; sets port and
# pid (added to pids). Its output goes to $tmp/serve.{out,err}.
bench_serve() {
	local dir=$1
	shift
	# created first: the loop below may read them before the server's shell opens them
	: >"$tmp/serve.out"
	: >"$tmp/serve.err"
	BRISK_TODAY=${end:-} "$brisk" serve --data "$dir" --port 0 "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
	pid=$!
	pids+=("$pid")
	port=
	for _ in $(seq 1 600); do
		port=$(sed -nE 's|.*listening on https?://[0-9.]+:([0-9]+)/.*|\1|p' "$tmp/serve.out")
		[ -n "$port" ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; exit 1; }
		sleep 0.1
	done
	echo "$(basename "$0"): brisk did not start" >&2
	exit 1
}

# wrk_summary < WRK_OUTPUT: "requests/s p50_ms p99_ms non2xx" of a
# `wrk --latency` run (socket errors count as non-2xx).
wrk_summary() {
	awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		/Non-2xx/ { err += $NF }
		/Socket errors/ { err += 1 }
		END { printf "%.1f %.3f %.3f %d\n", rps, p50, p99, err }'
}
