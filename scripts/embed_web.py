#!/usr/bin/env python3
"""Turns the web UI (web/*) and uPlot's dist files into a C file of
static_asset entries (see src/http/static.h), run by meson at build time.

Every asset except index.html gets a content-hashed name
(/assets/app.3f2a1c9d0e.js) so it can be cached for a year; index.html is
served at / with "no-cache" and is rewritten to point at the hashed names:
each "/assets/NAME" in it becomes the hashed path, and the marker
<!--brisk:importmap--> becomes an import map (so modules keep importing
each other by their plain names: "./api.js" resolves to /assets/api.js,
which the map sends to /assets/api.<hash>.js) plus modulepreload links.
Each asset is also stored gzip-compressed when that is smaller.

--doc URL=FILE adds a JSON document served as it is at URL (not hashed,
revalidated with its ETag): the OpenAPI document, /api/v1/openapi.json.
It must parse as JSON, so a broken document fails the build.

usage: embed_web.py --web DIR --uplot DIR --out FILE [--doc URL=FILE]... [--depfile FILE] [--sizes]
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import sys

TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.json': 'application/json',
    '.txt': 'text/plain; charset=utf-8',
}
MARKER = '<!--brisk:importmap-->'


def content_hash(data):
    return hashlib.sha256(data).hexdigest()[:10]


def collect(web, uplot):
    """[(logical name, source path)] in a stable order."""
    out = []
    for name in sorted(os.listdir(web)):
        path = os.path.join(web, name)
        ext = os.path.splitext(name)[1]
        if name.startswith('.') or not os.path.isfile(path) or ext not in TYPES:
            continue
        out.append((name, path))
    for logical, src in (('uplot.js', 'uPlot.esm.js'), ('uplot.css', 'uPlot.min.css')):
        path = os.path.join(uplot, src)
        if not os.path.isfile(path):
            sys.exit(f'embed_web: {path} is missing: run "npm ci" (scripts/deps.sh build does)')
        out.append((logical, path))
    if not any(n == 'index.html' for n, _ in out):
        sys.exit(f'embed_web: {web}/index.html is missing')
    return out


STATIC_IMPORT = re.compile(rb'^\s*(?:import|export)\b[^;(]*?\bfrom\s*[\'"]\./([A-Za-z0-9_.-]+\.js)[\'"]', re.M)


def static_graph(assets, entries):
    """Modules reachable from entries through static imports (sorted)."""
    seen, todo = set(), list(entries)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        if n not in assets:
            sys.exit(f'embed_web: a module imports ./{n}, which is not in web/')
        seen.add(n)
        todo.extend(m.decode() for m in STATIC_IMPORT.findall(assets[n]['data']))
    return sorted(seen)


def c_bytes(name, data):
    lines = []
    for i in range(0, len(data), 24):
        lines.append(','.join(str(b) for b in data[i:i + 24]))
    return f'static const unsigned char {name}[{max(len(data), 1)}] = {{\n' + ',\n'.join(lines or ['0']) + '\n};\n'


def c_str(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--web', required=True)
    ap.add_argument('--uplot', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--depfile')
    ap.add_argument('--doc', action='append', default=[], metavar='URL=FILE')
    ap.add_argument('--sizes', action='store_true', help='print each asset and the compressed JS+CSS total')
    a = ap.parse_args()

    files = collect(a.web, a.uplot)
    assets = {}  # logical name -> dict
    for logical, path in files:
        with open(path, 'rb') as f:
            data = f.read()
        assets[logical] = {'src': path, 'data': data}

    # Hashed names for everything but the page itself and the documents.
    for logical, asset in assets.items():
        if logical == 'index.html':
            continue
        h = content_hash(asset['data'])
        stem, ext = os.path.splitext(logical)
        asset['path'] = f'/assets/{stem}.{h}{ext}'
        asset['etag'] = h
        asset['immutable'] = True

    for spec in a.doc:
        url, _, path = spec.partition('=')
        if not url.startswith('/') or not path:
            sys.exit(f'embed_web: --doc takes URL=FILE, not {spec}')
        with open(path, 'rb') as f:
            data = f.read()
        try:
            json.loads(data)
        except ValueError as e:
            sys.exit(f'embed_web: {path} is not valid JSON: {e}')
        assets['doc:' + url] = {'src': path, 'data': data, 'path': url, 'etag': content_hash(data),
                                'immutable': False, 'type': 'application/json'}

    # The page: hashed references, import map, preloads, and the CSP that
    # allows exactly that inline import map and nothing from elsewhere.
    html = assets['index.html']['data'].decode('utf-8')
    if MARKER not in html:
        sys.exit(f'embed_web: index.html lacks the marker {MARKER}')
    modules = sorted(n for n in assets if n.endswith('.js'))
    imap = json.dumps({'imports': {f'/assets/{n}': assets[n]['path'] for n in modules}}, separators=(',', ':'))
    # Preload what the page's scripts import statically, all at once (no
    # waterfall); modules behind import() load when they are needed.
    entries = re.findall(r'<script type="module"[^>]*src="/assets/([A-Za-z0-9_.-]+\.js)"', html)
    preload = ''.join(f'<link rel="modulepreload" href="/assets/{n}">' for n in static_graph(assets, entries))

    def hashed(m):
        name = m.group(1)
        if name not in assets or name == 'index.html':
            sys.exit(f'embed_web: index.html refers to /assets/{name}, which is not in web/')
        return assets[name]['path']

    # The map goes where the marker is: before every module script and
    # preload, as import maps must.
    html = re.sub(r'/assets/([A-Za-z0-9_.-]+)', hashed, html.replace(MARKER, '\0' + preload))
    html = html.replace('\0', f'<script type="importmap">{imap}</script>')
    csp_hash = base64.b64encode(hashlib.sha256(imap.encode()).digest()).decode()
    page = assets['index.html']
    page['data'] = html.encode('utf-8')
    page['path'] = '/'
    page['etag'] = content_hash(page['data'])
    page['immutable'] = False
    csp = ("default-src 'self'; script-src 'self' 'sha256-%s'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" % csp_hash)

    out = ['/* Generated by scripts/embed_web.py from web/ and uPlot: do not edit. */\n',
           '#include "http/static.h"\n\n']
    rows = []
    total_gz = 0
    report = []
    for i, (logical, asset) in enumerate(sorted(assets.items())):
        data = asset['data']
        gz = gzip.compress(data, 9, mtime=0)
        out.append(c_bytes(f'raw_{i}', data))
        if len(gz) < len(data):
            out.append(c_bytes(f'gz_{i}', gz))
            gzref, gzlen = f'gz_{i}', len(gz)
        else:
            gzref, gzlen, gz = 'NULL', 0, data
        ctype = asset.get('type') or TYPES[os.path.splitext(logical)[1]]
        rows.append('\t{%s, %s, raw_%d, %d, %s, %d, %s, %s},\n' % (
            c_str(asset['path']), c_str(ctype), i, len(data), gzref, gzlen,
            c_str('"' + asset['etag'] + '"'), 'true' if asset['immutable'] else 'false'))
        if logical.endswith(('.js', '.css')):
            total_gz += len(gz)
        report.append((asset['path'], len(data), len(gz)))
    out.append('\nconst static_asset static_assets[] = {\n' + ''.join(rows) + '};\n')
    out.append('const size_t static_nassets = sizeof static_assets / sizeof static_assets[0];\n')
    out.append('const char static_index_csp[] = %s;\n' % c_str(csp))
    out.append('const size_t static_bundle_gz_bytes = %d; /* compressed JS + CSS */\n' % total_gz)

    tmp = a.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(''.join(out))
    os.replace(tmp, a.out)

    if a.depfile:
        deps = [os.path.abspath(a.web)] + [os.path.abspath(v['src']) for v in assets.values()]
        deps.append(os.path.abspath(__file__))
        with open(a.depfile, 'w') as f:
            f.write(a.out.replace(' ', '\\ ') + ': ' + ' '.join(d.replace(' ', '\\ ') for d in deps) + '\n')
    if a.sizes:
        for path, raw, gz in report:
            print(f'{path:44} {raw:8} bytes, {gz:7} gzip')
        print(f'compressed JS + CSS: {total_gz} bytes ({total_gz / 1024:.1f} KiB)')


if __name__ == '__main__':
    main()
