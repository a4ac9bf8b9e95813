"""Parses each ini text of a JSON list (stdin) with oslo.config's own parser
(cfg.ConfigParser over iniparser.BaseParser, lines split as open() splits
them) and prints, per text, the sections with each option's last value, or
the parse error's line and message."""
import io
import json
import sys

from oslo_config import cfg, iniparser

out = []
for text in json.load(sys.stdin):
    sections = {}
    parser = cfg.ConfigParser('x.ini', sections)
    try:
        iniparser.BaseParser.parse(parser, io.StringIO(text, newline=None).readlines())
        out.append({'ok': {s: {k: v[-1] for k, v in opts.items()} for s, opts in sections.items()}})
    except iniparser.ParseError as e:
        out.append({'error': e.lineno, 'msg': e.msg})
json.dump(out, sys.stdout)
