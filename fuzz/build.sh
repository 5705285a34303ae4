#!/usr/bin/env bash
# Builds the libFuzzer drivers of fuzz/ with clang (ASan + UBSan) into
# fuzz/build/ (or $1). Usage: fuzz/build.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-fuzz/build}
CC=${CC:-clang}

if ! command -v "$CC" >/dev/null; then
  echo "fuzz/build.sh: $CC not found: apt-get install -y clang (and libclang-rt-14-dev if -fsanitize=fuzzer fails)" >&2
  exit 1
fi

mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags=(-g -O1 -fno-omit-frame-pointer -std=gnu17 -D_GNU_SOURCE -DBRISK_VERSION=\"fuzz\"
        -Isrc -Ifuzz $san -fsanitize=fuzzer-no-link)
libs=(-lsqlite3 -lxxhash -lm -lpthread)

# The library pieces the drivers reach, compiled once with coverage.
lib_src=(src/core/mem.c src/core/buf.c src/core/log.c src/core/utf8.c src/core/money.c src/core/date.c
         src/ingest/csv.c src/ingest/entity.c src/ingest/import.c
         src/store/store.c src/store/schema.c src/store/rollup.c src/http/query.c)
objs=()
for f in "${lib_src[@]}"; do
  o="$out/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then
    "$CC" "${cflags[@]}" -c "$f" -o "$o"
  fi
  objs+=("$o")
done
rm -f "$out/libbrisk_fuzz.a"
ar rcs "$out/libbrisk_fuzz.a" "${objs[@]}"

for t in csv money date query import; do
  "$CC" "${cflags[@]}" -fsanitize=fuzzer "fuzz/fuzz_$t.c" "$out/libbrisk_fuzz.a" "${libs[@]}" -o "$out/fuzz_$t"
  echo "built $out/fuzz_$t"
done
