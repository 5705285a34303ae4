#!/usr/bin/env bash
# The brisk binary for the PostgreSQL pass of the end-to-end suite: runs
# $BRISK_REAL_BIN with DATABASE_URL naming one database per data directory
# (created on first use), so every test's data dir is as isolated as its own
# SQLite file. The name is b_ + the first 16 hex of md5(absolute data dir),
# as tests/e2e/lib/harness.mjs derives it.
set -u
data=""
prev=""
for a in "$@"; do
  case "$prev" in --data) data=$a ;; esac
  case "$a" in --data=*) data=${a#--data=} ;; esac
  prev=$a
done
[ -n "$data" ] || data=${BRISK_DATA:-./brisk-data}
abs=$(realpath -s -m -- "$data")
db="b_$(printf '%s' "$abs" | md5sum | cut -c1-16)"
base=${BRISK_TEST_DATABASE_URL%/}
marks=${BRISK_PG_MARKERS:-/tmp}
if [ ! -e "$marks/$db" ]; then
  psql -qX "$base/postgres" -c "CREATE DATABASE $db" >/dev/null 2>&1 || true
  : >"$marks/$db"
fi
export DATABASE_URL="$base/$db"
exec "$BRISK_REAL_BIN" "$@"
