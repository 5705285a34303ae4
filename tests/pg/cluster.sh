#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temp
# dir, started on a free 127.0.0.1 port (trust auth, user brisk).
#   eval "$(tests/pg/cluster.sh start)"   sets BRISK_PG_DIR and BRISK_TEST_DATABASE_URL
#   tests/pg/cluster.sh stop "$BRISK_PG_DIR"
#   tests/pg/cluster.sh pause|resume "$BRISK_PG_DIR"   (fault tests: server away, back)
#   eval "$(tests/pg/cluster.sh replica "$BRISK_PG_DIR")"   a streaming
#     replica of it (pg_basebackup -R) on another free port: sets
#     BRISK_TEST_REPLICA_URL; stopped (and removed) with the primary
# As root, the server runs as the postgres user (initdb refuses root).
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "cluster.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as=()
if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi
case "${1:-}" in
start)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/brisk-pg-XXXXXX")
  chmod 755 "$dir"
  [ ${#as[@]} -eq 0 ] || chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U brisk --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # fsync off: a test cluster is thrown away; durability is PostgreSQL's
  # own business, tested by its authors. max_connections: 3 instances x pool.
  echo "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB" >"$dir/opts"
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/opts")" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "export BRISK_PG_DIR=$dir BRISK_TEST_DATABASE_URL=postgresql://brisk@127.0.0.1:$port"
  ;;
replica)
  dir=${2:?usage: cluster.sh replica DIR}
  pport=$(sed -nE 's/.*-p ([0-9]+).*/\1/p' "$dir/opts")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U brisk -D "$dir/replica" -R -X stream \
    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=300 -c shared_buffers=64MB" \
    start >/dev/null || { cat "$dir/replica.log" >&2; exit 1; }
  echo "export BRISK_TEST_REPLICA_URL=postgresql://brisk@127.0.0.1:$port"
  ;;
pause) # stops the server (fast: sessions are cut), keeping its files
  dir=${2:?usage: cluster.sh pause DIR}
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  ;;
resume) # starts a paused server again on its port
  dir=${2:?usage: cluster.sh resume DIR}
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/opts")" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  ;;
stop)
  dir=${2:?usage: cluster.sh stop DIR}
  [ ! -d "$dir/replica" ] || "${as[@]}" "$bin/pg_ctl" -D "$dir/replica" -m immediate -w stop >/dev/null 2>&1 || true
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: cluster.sh start | replica DIR | stop DIR | pause DIR | resume DIR" >&2; exit 2 ;;
esac
