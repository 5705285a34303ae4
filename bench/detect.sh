#!/usr/bin/env bash
# --detect reads a sample, not the file: on a 1M-row German bank export
# (windows-1252, ';', preamble, decimal comma), the time detection takes
# (it prints it) against the time of a plain --dry-run of the same file,
# measured in the same run.
# usage: bench/detect.sh BRISK_BINARY     (ROWS=1000000 by default)
set -euo pipefail
bin=$(readlink -f "${1:-build/release/brisk}")
rows=${ROWS:-1000000}
work=${BENCH_DIR:-/tmp/brisk-bench-detect}
mkdir -p "$work"
csv="$work/bank-$rows.csv"
if [ ! -f "$csv" ]; then
  echo "generating $rows rows into $csv"
  python3 - "$csv" "$rows" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, 'w', encoding='cp1252', newline='') as f:
    f.write('Umsätze Girokonto;Zeitraum: 01.01.2024 - 31.12.2024;;;\r\nKunde: Max Mustermann;;;;\r\n\r\n')
    f.write('Buchungstag;Wert;Begünstigter / Auftraggeber;Verwendungszweck;Betrag;Währung\r\n')
    for i in range(n):
        d = f'{1 + i % 28:02d}.{1 + (i // 28) % 12:02d}.2024'
        amt = (i * 7919) % 250000 - 100000
        s = '-' if amt < 0 else ''
        a = abs(amt)
        f.write(f'{d};{d};Geschäftspartner {i % 5000};Rechnung {i};{s}{a // 100:,}'.replace(',', '.') + f',{a % 100:02d};EUR\r\n')
PY
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); file $(du -h "$csv" | cut -f1)"
rm -rf "$work/data"
t0=$(date +%s.%N)
out=$("$bin" import payments "$csv" --data "$work/data" -q --detect --dry-run 2>&1 >/dev/null)
t1=$(date +%s.%N)
echo "$out" | grep -E '^(detected|  from)'
det=$(echo "$out" | sed -n 's/.*bytes of the file, in \([0-9.]*\) s/\1/p')
printf 'detection: %s s; the whole dry run (every row read and validated): %.2f s; ratio %.4f\n' \
  "$det" "$(echo "$t1 - $t0" | bc)" "$(echo "$det / ($t1 - $t0)" | bc -l)"
