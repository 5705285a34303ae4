#!/usr/bin/env python3
"""Writes the man pages of brisk from its own --help texts, so the two
never disagree: brisk.1 from `brisk help` (the command list) and
brisk-CMD.1 from `brisk CMD --help` for every command listed there.

The help texts follow one layout, which this reads:
  usage: brisk CMD ...        (more usage lines indented under it)
  paragraphs                  -> DESCRIPTION
  heading:                    -> a section (options:, filters (...):)
    --flag ARG   description  -> a tagged paragraph; deeper-indented
                 continuation    lines continue the description

usage: man.py BRISK_BINARY OUTDIR
"""
import datetime
import os
import re
import subprocess
import sys

SOURCE_DATE = os.environ.get('SOURCE_DATE_EPOCH')


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    return p.stdout or p.stderr


def esc(text):
    """Plain text to roff: backslashes, dashes of options, leading dots."""
    text = text.replace('\\', '\\e')
    text = re.sub(r'(^|[\s\[(|,=])-', r'\1\\-', text)
    text = re.sub(r'(?<=\\-)-', r'\\-', text)
    if text.startswith(('.', "'")):
        text = '\\&' + text
    return text


def commands(binary):
    """[(name, summary)] from the command list of `brisk help`."""
    out, inlist = [], False
    for line in run(binary, 'help').splitlines():
        if line.strip() == 'commands:':
            inlist = True
            continue
        if inlist:
            m = re.match(r'^  (\S+)\s+(.*)$', line)
            if not m:
                break
            if m.group(1) != 'help':
                out.append((m.group(1), m.group(2)))
    return out


OPTION = re.compile(r'^ {1,4}((?:-|SIG[A-Z])\S.*?)(?: {2,}(\S.*))?$')


def parse(text):
    """(usage lines, [(section or None, [blocks])]): a block is ('p', text)
    or ('tp', term, description)."""
    lines = text.rstrip('\n').splitlines()
    usage = []
    i = 0
    while i < len(lines) and (lines[i].startswith('usage:') or (usage and re.match(r'^\s+brisk\b', lines[i]))):
        usage.append(re.sub(r'^usage:\s*', '', lines[i]).strip())
        i += 1
    sections = [[None, []]]
    para = []

    def flush():
        if para:
            sections[-1][1].append(('p', ' '.join(para)))
            para.clear()

    for line in lines[i:]:
        if not line.strip():
            flush()
            continue
        if not line.startswith(' ') and line.rstrip().endswith(':') and len(line) < 60:
            flush()
            sections.append([line.rstrip()[:-1], []])
            continue
        m = OPTION.match(line)
        if m:
            flush()
            sections[-1][1].append(['tp', m.group(1).strip(), m.group(2) or ''])
            continue
        last = sections[-1][1][-1] if sections[-1][1] else None
        if line.startswith('   ') and last and last[0] == 'tp' and not para:
            last[2] = (last[2] + ' ' + line.strip()).strip()
            continue
        para.append(line.strip())
    flush()
    return usage, [s for s in sections if s[1]]


def header(name, section, summary, date):
    return [f'.TH {name.upper()} {section} "{date}" "brisk" "brisk manual"',
            '.SH NAME', f'{esc(name)} \\- {esc(summary)}']


def render_blocks(out, blocks):
    for b in blocks:
        if b[0] == 'p':
            out += ['.PP', esc(b[1])]
        else:
            out += ['.TP', f'.B {esc(b[1])}', esc(b[2]) if b[2] else '']


COMMON_SEE_ALSO = 'docs/operations.md and docs/api.md of the brisk sources; GET /api/v1/openapi.json of a running server'


def command_page(binary, name, summary, date, all_names):
    usage, sections = parse(run(binary, name, '--help'))
    out = header(f'brisk-{name}', 1, summary, date)
    out.append('.SH SYNOPSIS')
    for u in usage or [f'brisk {name}']:
        out += ['.nf' if len(usage) > 1 else '', esc(u)]
    if len(usage) > 1:
        out.append('.fi')
    described = False
    for title, blocks in sections:
        if title is None:
            out.append('.SH DESCRIPTION')
            described = True
            paras = [b for b in blocks if b[0] == 'p']
            opts = [b for b in blocks if b[0] == 'tp']
            render_blocks(out, paras)
            if opts:
                out.append('.SH OPTIONS')
                render_blocks(out, opts)
        else:
            word, _, rest = title.partition(' (')
            out.append(f'.SH {esc(word.upper())}' + (f' ({esc(rest)}' if rest else ''))
            render_blocks(out, blocks)
    if not described:
        out[out.index('.SH SYNOPSIS'):out.index('.SH SYNOPSIS')] = []
        out += ['.SH DESCRIPTION', '.PP', esc(summary[0].upper() + summary[1:] + '.')]
    out += ['.SH SEE ALSO', '.BR brisk (1),', esc(COMMON_SEE_ALSO)]
    return '\n'.join(l for l in out if l != '') + '\n'


def main_page(binary, cmds, date):
    head = run(binary, 'help').splitlines()
    summary = head[0].split(' - ', 1)[1] if head and ' - ' in head[0] else 'a fast business-dashboard server'
    out = header('brisk', 1, summary, date)
    out += ['.SH SYNOPSIS', '.B brisk', '.I COMMAND', '[options]', '.br', '.B brisk', '.I COMMAND', '.B \\-\\-help',
            '.SH DESCRIPTION', '.PP',
            esc('brisk serves business dashboards (cash flow, receivables, sales, leads) and an HTTP/JSON API over '
                'an embedded SQLite store, imports bank, ERP and CRM exports as CSV files, and reconciles bank '
                'payments with invoices. Each command has its own page, brisk-COMMAND(1), and prints the same text '
                'with --help.'),
            '.SH COMMANDS']
    for name, s in cmds:
        out += ['.TP', f'.BR brisk\\-{esc(name)} (1)', esc(s)]
    for line in head:
        if line.startswith('Data directory:'):
            out += ['.SH FILES', '.PP', esc(line + '. It holds brisk.db (the store) and tasks/ (files of background tasks).')]
    out += ['.SH ENVIRONMENT', '.PP',
            esc('BRISK_DATA (data directory), BRISK_LOG (debug, info, warn, error), BRISK_TODAY (fixes today, '
                'YYYY-MM-DD), REDIS_URL, and the BRISK_* variable of each setting: brisk config check lists every '
                'setting with where its value comes from.'),
            '.SH EXIT STATUS', '.PP', '0 success, 1 failure, 2 usage error.',
            '.SH SEE ALSO']
    out += [f'.BR brisk\\-{esc(n)} (1),' for n, _ in cmds]
    out.append(esc(COMMON_SEE_ALSO))
    return '\n'.join(out) + '\n'


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: man.py BRISK_BINARY OUTDIR')
    binary, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    when = datetime.datetime.fromtimestamp(int(SOURCE_DATE), datetime.timezone.utc) if SOURCE_DATE else \
        datetime.datetime.now(datetime.timezone.utc)
    date = when.strftime('%Y-%m-%d')
    cmds = commands(binary)
    if not cmds:
        sys.exit(f'man.py: {binary} help lists no commands')
    pages = {'brisk.1': main_page(binary, cmds, date)}
    for name, summary in cmds:
        pages[f'brisk-{name}.1'] = command_page(binary, name, summary, date, [n for n, _ in cmds])
    for fname, text in pages.items():
        with open(os.path.join(outdir, fname), 'w') as f:
            f.write(text)
    print('\n'.join(sorted(pages)))


if __name__ == '__main__':
    main()
