#!/bin/sh
# Reconciliation quality and speed on generated data (issue 5's targets).
#
#   bench/match.sh BRISK_BINARY_PATH [--scale-100] [--keep]
#
# For scale 10 (and 100 with --scale-100 or BENCH_FULL=1): `brisk gen`,
# import invoices and payments into a fresh data directory, then time
# `brisk match --report r.csv` under /usr/bin/time -v and score the applied
# matches of the report against the generator's truth.csv:
#   precision = applied pairs that are true / applied,
#   recall    = applied pairs that are true / payments that have an invoice,
#   prop_ok   = proposed pairs that are true / proposed.
# Prints wall time, peak RSS, applied/proposed/unmatched, precision, recall,
# and exits 1 when a target is missed: precision >= 99.9 %, recall >= 97 %,
# prop_ok >= 90 % at every scale; at scale 100 also <= 60 s wall and <= 1.5 GB peak RSS.
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

printf '%-6s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n' scale payments wall_s rss_mb applied proposed unmatched precision recall prop_ok
for scale in $scales; do
	d="$tmp/s$scale"
	mkdir -p "$d"
	# A fixed end date: the same data on every run and every machine.
	"$brisk" gen --scale "$scale" --end 2026-06-30 --out "$d/csv" >/dev/null
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
	python3 - "$d/csv/truth.csv" "$d/r.csv" "$scale" "$wall" "$rss" <<'PY' || status=1
import csv, sys
truth_path, report_path, scale, wall, rss = sys.argv[1:6]
truth = {}
with open(truth_path, newline="") as f:
    for row in csv.DictReader(f):
        truth[row["payment_id"]] = row["invoice_id"]
related = sum(1 for v in truth.values() if v)
counts = {"applied": 0, "proposed": 0, "unmatched": 0}
right = 0
prop_right = 0
with open(report_path, newline="") as f:
    for row in csv.DictReader(f):
        counts[row["decision"]] += 1
        if row["decision"] == "applied" and truth.get(row["payment_id"]) == row["invoice_id"]:
            right += 1
        if row["decision"] == "proposed" and truth.get(row["payment_id"]) == row["invoice_id"]:
            prop_right += 1
precision = 100.0 * right / counts["applied"] if counts["applied"] else 0.0
recall = 100.0 * right / related if related else 0.0
prop_ok = 100.0 * prop_right / counts["proposed"] if counts["proposed"] else 100.0
print("%-6s %9d %9s %9s %9d %9d %9d %8.3f%% %7.3f%% %7.3f%%" % (
    scale, len(truth), wall, rss, counts["applied"], counts["proposed"], counts["unmatched"], precision, recall,
    prop_ok))
bad = []
if precision < 99.9:
    bad.append("precision %.3f%% < 99.9%%" % precision)
if prop_ok < 90.0:
    bad.append("proposals right %.3f%% < 90%%" % prop_ok)
if recall < 97.0:
    bad.append("recall %.3f%% < 97%%" % recall)
if float(scale) >= 100 and float(wall) > 60:
    bad.append("wall %s s > 60 s" % wall)
if float(scale) >= 100 and float(rss) > 1536:
    bad.append("peak RSS %s MB > 1536 MB" % rss)
for b in bad:
    print("  MISSED at scale %s: %s" % (scale, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	sed 's/^/  /' "$d/match.txt"
done
exit $status
