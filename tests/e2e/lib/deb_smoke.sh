#!/usr/bin/env bash
# The Debian package on this machine, end to end (run by deb.test.mjs as
# root, under a lock so that two test runs never install at once):
# build it from BRISK_BIN, install it, check what it installed, verify the
# unit with systemd-analyze, run the unit's ExecStart as the brisk user and
# read /healthz, then remove and purge it and check what is left.
# Usage: deb_smoke.sh BRISK_BIN WORKDIR
set -euo pipefail
bin=$1 work=$2
repo=$(cd "$(dirname "$0")/../../.." && pwd)
step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# dpkg waits for nobody: retry while another dpkg/apt holds its lock.
dpkg_retry() {
  local i out
  for i in $(seq 1 60); do
    if out=$(dpkg "$@" 2>&1); then printf '%s\n' "$out"; return 0; fi
    if ! grep -q 'lock' <<<"$out"; then printf '%s\n' "$out"; return 1; fi
    sleep 2
  done
  printf '%s\n' "$out"; return 1
}

version="$("$bin" version | awk '{print $2}')+e2etest"
marker=/var/lib/brisk/.brisk-e2etest   # data a test run made, not an operator's
if have=$(dpkg-query -W -f='${Version} ${Status}' brisk 2>/dev/null) && [[ "$have" == *installed* ]]; then
  case "$have" in
    *+e2etest*) step "purging the package a crashed test run left"; dpkg_retry --purge brisk >/dev/null ;;
    *) echo "SKIP: a brisk package ($have) is installed on this machine: not touching it"; exit 0 ;;
  esac
fi
if [ -e "$marker" ]; then
  step "removing the data a crashed test run left"
  rm -rf /var/lib/brisk
elif [ -e /var/lib/brisk ]; then
  echo "SKIP: /var/lib/brisk holds data this test did not make: not touching it"; exit 0
fi

# Whatever happens, leave the machine as it was: no package, no test data.
installed=no pid=
finish() {
  local rc=$?
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ "$installed" = yes ] && { dpkg_retry --purge brisk >/dev/null 2>&1 || echo "NOTE: could not purge brisk"; }
  [ -e "$marker" ] && rm -rf /var/lib/brisk
  exit $rc
}
trap finish EXIT

step "build the package from $bin"
deb=$(BRISK_DEB_VERSION=$version "$repo/scripts/deb.sh" "$bin" "$work")
# (no "| grep -q" under pipefail: grep leaving early fails the writer)
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "version: $(dpkg-deb -f "$deb" Version)"
[[ "$(dpkg-deb -f "$deb" Depends)" == *adduser* ]] || fail "Depends lacks adduser"

step "install it"
installed=yes
dpkg_retry -i "$deb"
touch "$marker"
[ "$(dpkg-query -W -f='${Status}' brisk)" = "install ok installed" ] || fail "not installed"
for f in /usr/bin/brisk /usr/lib/systemd/system/brisk.service /etc/brisk/brisk.ini /usr/share/man/man1/brisk.1.gz \
         /usr/share/man/man1/brisk-serve.1.gz /usr/share/man/man1/brisk-config.1.gz; do
  [ -e "$f" ] || fail "$f is missing"
done
[ "$(dpkg-query --control-show brisk conffiles)" = /etc/brisk/brisk.ini ] || fail "the config is not a conffile"
[[ "$(getent passwd brisk)" == *:/var/lib/brisk:/usr/sbin/nologin ]] || fail "no brisk system user: $(getent passwd brisk)"
[ "$(id -u brisk)" -lt 1000 ] || fail "brisk is not a system user"
[ "$(stat -c %U:%a /var/lib/brisk)" = brisk:750 ] || fail "/var/lib/brisk: $(stat -c %U:%a /var/lib/brisk)"
[ "$(stat -c %U:%G:%a /etc/brisk/brisk.ini)" = root:brisk:640 ] || fail "/etc/brisk/brisk.ini: $(stat -c %U:%G:%a /etc/brisk/brisk.ini)"
[[ "$(MANPAGER=cat man -l /usr/share/man/man1/brisk-serve.1.gz 2>&1)" == *"brisk serve"* ]] || fail "man page"
unit=/usr/lib/systemd/system/brisk.service
for k in ProtectSystem=strict ReadWritePaths=/var/lib/brisk NoNewPrivileges=true PrivateTmp=true User=brisk; do
  grep -q "^$k" "$unit" || fail "the unit lacks $k"
done

step "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
  # verify also checks that ExecStart's binary exists: it is installed now
  out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
  echo "verified"
  # the sandbox, as systemd scores it (0 = nothing exposed, 10 = everything)
  if [[ "$(systemd-analyze security --help 2>&1)" == *--offline* ]]; then
    score=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for brisk.service: \([0-9.]*\).*/\1/p')
    echo "NOTE: systemd-analyze security rates the unit's exposure $score (0 best, 10 worst)"
    awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || fail "the unit's exposure is ${score:-unknown}, above 2.0"
  fi
  [ -d /run/systemd/system ] || echo "NOTE: systemd is not PID 1 here: the unit was verified but not started by systemd"
else
  echo "NOTE: systemd-analyze is not installed (no systemd here): the unit was not verified"
fi
if [ -d /run/systemd/system ]; then
  systemctl is-enabled brisk.service >/dev/null || fail "the unit is not enabled"
  systemctl stop brisk.service || true   # the run below uses a port of its own
fi

step "brisk config check as the brisk user"
setpriv --reuid=brisk --regid=brisk --init-groups /usr/bin/brisk config check --quiet --config /etc/brisk/brisk.ini \
  || fail "config check of the packaged configuration"

step "run the unit's ExecStart as the brisk user, read /healthz"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
log=$work/serve.log
# the packaged config, on a free port (the environment overrides the file);
# leaks are other tests' business (a sanitizer build's suppression file may
# not be readable by the brisk user)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 BRISK_PORT=0 setpriv --reuid=brisk --regid=brisk --init-groups $exec_start >"$log" 2>&1 &
pid=$!
port=
for i in $(seq 1 600); do
  port=$(sed -n 's|.*listening on http://[0-9.]*:\([0-9]*\)/.*|\1|p' "$log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "brisk serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || { kill "$pid"; cat "$log"; fail "brisk serve did not start"; }
health=$(curl -fsS "http://127.0.0.1:$port/healthz") || { kill "$pid"; fail "/healthz"; }
echo "healthz: $health"
[ "$health" = '{"status":"ok"}' ] || { kill "$pid"; fail "/healthz said $health"; }
[ "$(stat -c %U /var/lib/brisk/brisk.db)" = brisk ] || { kill "$pid"; fail "the store is not the brisk user's"; }
kill -HUP "$pid"
sleep 0.5
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { kill "$pid"; fail "/readyz after SIGHUP"; }
kill -TERM "$pid"
wait "$pid" || { rc=$?; pid=; cat "$log"; fail "brisk serve exited $rc on SIGTERM"; }
pid=
grep -q 'reload: done' "$log" || fail "SIGHUP did not reload: $(cat "$log")"
grep -q 'GET 200' /var/log/brisk/access.log || fail "no access log in /var/log/brisk"

step "remove: the program goes, configuration and data stay"
dpkg_retry -r brisk
for f in /usr/bin/brisk /usr/lib/systemd/system/brisk.service /usr/share/man/man1/brisk.1.gz; do
  [ ! -e "$f" ] || fail "$f is left after remove"
done
[ -e /etc/brisk/brisk.ini ] || fail "remove deleted the configuration"
[ -e /var/lib/brisk/brisk.db ] || fail "remove deleted the data"

step "purge: the configuration and logs go, the data stays"
dpkg_retry --purge brisk
installed=no
dpkg-query -W brisk >/dev/null 2>&1 && fail "still known to dpkg after purge"
for f in /etc/brisk /var/log/brisk /usr/share/doc/brisk /usr/share/brisk; do
  [ ! -e "$f" ] || fail "$f is left after purge"
done
[ -e /var/lib/brisk/brisk.db ] || fail "purge deleted the data"
echo "OK"   # finish removes the test's data; the brisk user stays, as after a real purge
