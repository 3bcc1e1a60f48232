#!/usr/bin/env python3
"""promcheck FILE: a strict reader of the Prometheus text exposition
format (0.0.4), for where promtool is not installed.  Prints each
problem with its line and exits 1 on any; exits 0 on a clean file."""
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:%s=%s(?:,%s=%s)*)?\})? '
                    r'(\S+)( -?[0-9]+)?$' % (LABEL, VALUE, LABEL, VALUE))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def main(path):
    text = open(path, 'rb').read().decode('utf-8')
    bad = []
    if not text.endswith('\n'):
        bad.append('0: no final newline')
    types, helps, seen, done = {}, set(), set(), set()
    current = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.match(name):
                    bad.append('%d: bad name %r' % (n, name))
                if name in done:
                    bad.append('%d: %s again after other families' % (n, name))
                if parts[1] == 'TYPE':
                    if name in types:
                        bad.append('%d: second TYPE for %s' % (n, name))
                    if len(parts) != 4 or parts[3] not in TYPES:
                        bad.append('%d: bad TYPE line' % n)
                    else:
                        types[name] = parts[3]
                else:
                    if name in helps:
                        bad.append('%d: second HELP for %s' % (n, name))
                    helps.add(name)
                if current is not None and current != name:
                    done.add(current)
                current = name
            continue
        if line == '':
            bad.append('%d: empty line' % n)
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append('%d: not a sample: %r' % (n, line))
            continue
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        if name not in types:
            bad.append('%d: %s has no TYPE before it' % (n, name))
        elif types[name] == 'counter' and not name.endswith('_total'):
            bad.append('%d: counter %s not named *_total' % (n, name))
        if name in done:
            bad.append('%d: %s sampled after another family' % (n, name))
        if current != name:
            if current is not None:
                done.add(current)
            current = name
        try:
            float(value)
        except ValueError:
            if value not in ('NaN', '+Inf', '-Inf'):
                bad.append('%d: bad value %r' % (n, value))
        if (name, labels) in seen:
            bad.append('%d: duplicate series %s%s' % (n, name, labels))
        seen.add((name, labels))
        keys = re.findall(r'(%s)=' % LABEL, labels)
        if len(keys) != len(set(keys)):
            bad.append('%d: a label twice' % n)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
