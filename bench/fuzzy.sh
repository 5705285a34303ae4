#!/bin/sh
# Throughput of match/fuzzy against python-Levenshtein on the same pairs.
#
#   bench/fuzzy.sh BRISK_BINARY_PATH [PAIRS]
#
# Runs $(dirname BRISK_BINARY_PATH)/bench/fuzzy_bench on PAIRS generated
# company-name pairs (default 200000), has it dump the pairs, then times
# Debian's python3-levenshtein (Levenshtein.ratio in a Python loop, call
# overhead included, as an application would use it) on that file, checks
# that both give the same ratios, and prints a table. Every figure is the
# best of three runs.
set -eu

brisk=${1:?usage: bench/fuzzy.sh BRISK_BINARY_PATH [PAIRS]}
pairs=${2:-200000}
bench="$(dirname "$brisk")/bench/fuzzy_bench"
if [ ! -x "$bench" ]; then
	echo "fuzzy.sh: $bench not found; build first (make release)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$bench" -n "$pairs" --dump "$tmp/pairs.tsv" >"$tmp/c.tsv"

# python3-levenshtein installs for the system interpreter, which may not be
# the first python3 on PATH (pyenv and virtualenvs hide it).
py=
for cand in python3 /usr/bin/python3; do
	if command -v "$cand" >/dev/null 2>&1 &&
	   "$cand" -c 'import Levenshtein' >/dev/null 2>&1; then
		py=$cand
		break
	fi
done

diff=n/a
: >"$tmp/py.tsv"
if [ -n "$py" ]; then
	cat >"$tmp/lev.py" <<'PY'
import sys, time
import Levenshtein

pairs = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        a, b, r = line.rstrip("\n").split("\t")
        pairs.append((a, b, float(r)))

ratio = Levenshtein.ratio
best = None
for _ in range(3):
    t0 = time.perf_counter()
    total = 0.0
    for a, b, _r in pairs:
        total += ratio(a, b)
    dt = time.perf_counter() - t0
    best = dt if best is None or dt < best else best
print("python-Levenshtein.ratio\t%.0f\t%.3f" % (len(pairs) / best, total * 100))

worst = max(abs(ratio(a, b) * 100 - r) for a, b, r in pairs)
with open(sys.argv[2], "w") as f:
    f.write("%.3g\n" % worst)
PY
	"$py" "$tmp/lev.py" "$tmp/pairs.tsv" "$tmp/diff" >"$tmp/py.tsv"
	diff=$(cat "$tmp/diff")
else
	echo "fuzzy.sh: python3-levenshtein not installed (apt-get install python3-levenshtein): skipping it" >&2
fi

base=$(awk -F'\t' '{print $2}' "$tmp/py.tsv")
printf '%-32s %14s %10s\n' "measurement ($pairs pairs)" "pairs/s" "vs python"
cat "$tmp/c.tsv" "$tmp/py.tsv" | awk -F'\t' -v base="${base:-0}" '{
	rel = base > 0 ? sprintf("%.1fx", $2 / base) : "-"
	printf "%-32s %14.0f %10s\n", $1, $2, rel
}'
echo "largest |fuzzy_ratio - 100 * Levenshtein.ratio| over the pairs: $diff"
