#!/usr/bin/env bash
# Installs what brisk needs to build, test and benchmark, idempotently:
# only packages that are missing are installed. Safe to run on every build.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(meson ninja-build pkg-config gcc
  libh2o-evloop-dev libssl-dev zlib1g-dev libzstd-dev libxxhash-dev
  libsqlite3-dev sqlite3 libpq-dev libcurl4-openssl-dev libhiredis-dev libjansson-dev libcsv-dev
  libinih-dev libsodium-dev libxlsxwriter-dev libcairo2-dev libcriterion-dev)
test_pkgs=(redis-server nodejs npm chromium poppler-utils python3-openpyxl prometheus man-db curl clang libclang-rt-dev postgresql postgresql-contrib nginx)
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
  # Up to date when every locked package is installed at its locked version
  # (by content: a fresh checkout's lock file is always newer than the install).
  if ! node -e 'const l = require("./package-lock.json");
      for (const [p, v] of Object.entries(l.packages || {}))
        if (p && require("./" + p + "/package.json").version !== v.version) process.exit(1);' 2>/dev/null; then
    if [ -L node_modules ]; then
      # A worktree sharing another checkout's install: npm ci would empty the
      # link's target under everyone using it.
      echo "deps: node_modules links to $(readlink node_modules), which does not match package-lock.json: run npm ci there" >&2
      [ -f node_modules/uplot/dist/uPlot.esm.js ] || exit 1 # the build needs it; tests may do without the rest
    fi
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
