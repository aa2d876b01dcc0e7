"""Fail CI if the PostgreSQL tests were skipped or none ran: a green run without them proves
nothing about the scale-out path. Reads the report tests/conftest.py writes."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    outcomes = json.load(f)
ran = [k for k, v in outcomes.items() if v != "skipped"]
skipped = [k for k, v in outcomes.items() if v == "skipped"]
if skipped or not ran:
    print(f"FAIL: {len(ran)} PostgreSQL tests ran, {len(skipped)} were skipped", file=sys.stderr)
    for n in skipped[:20]:
        print(f"  skipped: {n}", file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(ran)} PostgreSQL tests ran, none skipped")
