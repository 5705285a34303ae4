#!/usr/bin/env bash
# Installs what brisk needs to build, test and benchmark, idempotently:
# only packages that are missing are installed. Safe to run on every build.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(meson ninja-build pkg-config gcc
  libh2o-evloop-dev libssl-dev zlib1g-dev libzstd-dev libxxhash-dev
  libsqlite3-dev sqlite3 libpq-dev libhiredis-dev libjansson-dev libcsv-dev
  libinih-dev libsodium-dev libxlsxwriter-dev libcairo2-dev libcriterion-dev)
test_pkgs=(redis-server nodejs npm chromium poppler-utils python3-openpyxl prometheus)
bench_pkgs=(wrk nginx-light python3-levenshtein)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # node/npm may come from outside Debian (nvm, nodesource): accept a working binary.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, locked in package-lock.json: the build embeds uPlot from
# node_modules in the web UI, and the browser tests drive Debian's chromium
# through playwright-core. So every mode needs them (and node and npm).
if [ -f package-lock.json ]; then
  if ! command -v npm >/dev/null; then
    echo "deps: installing nodejs npm"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
