#!/usr/bin/env bash
# Builds the Debian package of brisk with dpkg-deb from a built binary:
# the binary, its man pages (scripts/man.py), the systemd unit and the
# default configuration (packaging/), maintainer scripts that create the
# brisk user and /var/lib/brisk. Depends is read from the libraries the
# binary links (ldd + dpkg -S), so it matches the build machine.
# Usage: scripts/deb.sh BRISK_BINARY OUTDIR   (prints the .deb's path)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(readlink -f "${1:?usage: scripts/deb.sh BRISK_BINARY OUTDIR}")
out=${2:?usage: scripts/deb.sh BRISK_BINARY OUTDIR}
[ -x "$bin" ] || { echo "deb: $bin is not an executable" >&2; exit 1; }

version=${BRISK_DEB_VERSION:-$("$bin" version | awk '{print $2}')}
arch=$(dpkg --print-architecture)
mkdir -p "$out"
root=$(mktemp -d "${TMPDIR:-/tmp}/brisk-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

install -D -m 0755 "$bin" "$root/usr/bin/brisk"
install -D -m 0644 packaging/brisk.service "$root/usr/lib/systemd/system/brisk.service"
install -D -m 0640 packaging/brisk.ini "$root/etc/brisk/brisk.ini"
install -D -m 0644 bench/validate-targets.ini "$root/usr/share/brisk/validate-targets.ini"
install -D -m 0644 LICENSE "$root/usr/share/doc/brisk/copyright"
install -m 0644 docs/operations.md docs/api.md docs/openapi.json "$root/usr/share/doc/brisk/"
mkdir -p "$root/usr/share/man/man1"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)} \
  python3 scripts/man.py "$root/usr/bin/brisk" "$root/usr/share/man/man1" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1

# Depends: the package of each shared library the binary links directly
# (NEEDED; ldd would also list their own dependencies).
needed=$(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}')
deps=$(ldd "$bin" | awk '/=> \//{print $1, $3}' | while read -r name lib; do
  grep -qxF "$name" <<<"$needed" || continue
  dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | grep -v '^libc6$' | paste -sd, | sed 's/,/, /g')
deps="libc6${deps:+, $deps}, adduser"

mkdir -p "$root/DEBIAN"
install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$root/DEBIAN/"
echo /etc/brisk/brisk.ini > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: brisk
Version: $version
Architecture: $arch
Maintainer: brisk developers <dev@brisk.invalid>
Installed-Size: $size
Depends: $deps
Section: net
Priority: optional
Homepage: https://brisk.invalid/
Description: fast business-dashboard server
 brisk serves business dashboards (cash flow, receivables, sales, leads)
 and an HTTP/JSON API (OpenAPI 3.1) over an embedded SQLite store, imports
 bank, ERP and CRM exports as CSV files, and reconciles bank payments with
 invoices. Runs as the systemd service brisk.service under the brisk user,
 with its data in /var/lib/brisk and its settings in /etc/brisk/brisk.ini.
CONTROL
deb="$out/brisk_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
