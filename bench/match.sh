#!/bin/sh
# Reconciliation quality and speed on generated data (issue 5's targets).
#
#   bench/match.sh BRISK_BINARY_PATH [--scale-100] [--keep]
#
# Each scale runs twice: "plain" data, and "batch" data (issue 15: 5% of
# payments settle 2-4 invoices at once, 2% are short by a bank fee, 1% are
# overpayments; BENCH_BATCH, BENCH_FEES, BENCH_OVERPAY change the shares).
# For scale 10 (and 100 with --scale-100 or BENCH_FULL=1): `brisk gen`,
# import invoices and payments into a fresh data directory, then time
# `brisk match --report r.csv` under /usr/bin/time -v and score the applied
# matches of the report against the generator's truth.csv:
#   precision = applied (payment, invoice) pairs that are true / applied pairs,
#   recall    = applied pairs that are true / true pairs (a batch payment has
#               one per invoice it settles),
#   prop_ok   = proposed pairs that are true / proposed pairs.
# Prints wall time, processor time (user + sys: on a loaded machine the
# wall time says more about the others' work than ours), peak RSS, the
# 1-minute load average when the run ended, applied/proposed/unmatched, precision, recall,
# and exits 1 when a target is missed: precision >= 99.9 % (plain) or 99.5 %
# (batch), recall >= 97 %, prop_ok >= 90 % (plain) at every scale; at scale
# 100 also <= 60 s wall and <= 1.5 GB peak RSS (plain), <= 30 s and 1 GB (batch).
# BENCH_THREADS sets --threads (default: all cores); --keep keeps the files.
set -eu

brisk=${1:?usage: bench/match.sh BRISK_BINARY_PATH [--scale-100] [--keep]}
shift
full=${BENCH_FULL:-0}
keep=0
for a in "$@"; do
	case $a in
	--scale-100) full=1 ;;
	--keep) keep=1 ;;
	*) echo "match.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
if [ ! -x "$brisk" ]; then
	echo "match.sh: $brisk is not an executable; build first (make release)" >&2
	exit 1
fi
if [ ! -x /usr/bin/time ]; then
	echo "match.sh: /usr/bin/time (GNU time) is needed for peak RSS: apt-get install time" >&2
	exit 1
fi

tmp=$(mktemp -d)
if [ "$keep" = 1 ]; then
	echo "keeping $tmp"
else
	trap 'rm -rf "$tmp"' EXIT INT TERM
fi
threads=${BENCH_THREADS:+--threads $BENCH_THREADS}
scales="10"
[ "$full" = 1 ] && scales="10 100"
status=0

printf '%-9s %9s %9s %8s %7s %6s %9s %9s %9s %9s %8s %8s\n' scale payments wall_s cpu_s rss_mb load applied proposed unmatched precision recall prop_ok
for run in $scales; do
for kind in plain batch; do
	scale=$run
	d="$tmp/s$scale$kind"
	mkdir -p "$d"
	extra=""
	[ "$kind" = batch ] && extra="--batch ${BENCH_BATCH:-0.05} --fees ${BENCH_FEES:-0.02} --overpay ${BENCH_OVERPAY:-0.01}"
	# A fixed end date: the same data on every run and every machine.
	# shellcheck disable=SC2086 # $extra is empty or options
	"$brisk" gen --scale "$scale" --end 2026-06-30 --out "$d/csv" $extra >/dev/null
	"$brisk" import invoices "$d/csv/invoices.csv" --data "$d/data" -q >/dev/null
	"$brisk" import payments "$d/csv/payments.csv" --data "$d/data" -q >/dev/null
	# shellcheck disable=SC2086 # $threads is empty or two words
	/usr/bin/time -v -o "$d/time.txt" "$brisk" match --data "$d/data" --report "$d/r.csv" -q --verbose $threads \
		>"$d/match.txt"
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, t, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + t[i]
		printf "%.2f", s }' "$d/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$d/time.txt")
	cpu=$(awk -F': ' '/(User|System) time/ { s += $2 } END { printf "%.2f", s }' "$d/time.txt")
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
	python3 - "$d/csv/truth.csv" "$d/r.csv" "$scale" "$wall" "$rss" "$kind" "$cpu" "$load" <<'PY' || status=1
import csv, sys
truth_path, report_path, scale, wall, rss, kind, cpu, load = sys.argv[1:9]
truth = set()
payments = set()
with open(truth_path, newline="") as f:
    for row in csv.DictReader(f):
        payments.add(row["payment_id"])
        if row["invoice_id"]:
            truth.add((row["payment_id"], row["invoice_id"]))
# A payment's decision is its verdict; a batch payment has a row per invoice.
verdict = {}
pairs = {"applied": 0, "proposed": 0}
right = 0
prop_right = 0
with open(report_path, newline="") as f:
    for row in csv.DictReader(f):
        verdict[row["payment_id"]] = row["decision"]
        d = row["decision"]
        if d in pairs:
            pairs[d] += 1
            ok = (row["payment_id"], row["invoice_id"]) in truth
            right += d == "applied" and ok
            prop_right += d == "proposed" and ok
counts = {"applied": 0, "proposed": 0, "unmatched": 0}
for v in verdict.values():
    counts[v] += 1
precision = 100.0 * right / pairs["applied"] if pairs["applied"] else 0.0
recall = 100.0 * right / len(truth) if truth else 0.0
prop_ok = 100.0 * prop_right / pairs["proposed"] if pairs["proposed"] else 100.0
print("%-9s %9d %9s %8s %7s %6s %9d %9d %9d %8.3f%% %7.3f%% %7.3f%%" % (
    scale + kind[0], len(payments), wall, cpu, rss, load, counts["applied"], counts["proposed"], counts["unmatched"],
    precision, recall, prop_ok))
bad = []
if precision < (99.9 if kind == "plain" else 99.5):
    bad.append("precision %.3f%% < %s%%" % (precision, "99.9" if kind == "plain" else "99.5"))
if kind == "plain" and prop_ok < 90.0:
    bad.append("proposals right %.3f%% < 90%%" % prop_ok)
if recall < 97.0:
    bad.append("recall %.3f%% < 97%%" % recall)
max_wall, max_rss = (60, 1536) if kind == "plain" else (30, 1024)
if float(scale) >= 100 and float(wall) > max_wall:
    bad.append("wall %s s > %d s" % (wall, max_wall))
if float(scale) >= 100 and float(rss) > max_rss:
    bad.append("peak RSS %s MB > %d MB" % (rss, max_rss))
for b in bad:
    print("  MISSED at scale %s (%s): %s" % (scale, kind, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	sed 's/^/  /' "$d/match.txt"
	[ "$keep" = 1 ] || rm -rf "$d"
done
done
exit $status
