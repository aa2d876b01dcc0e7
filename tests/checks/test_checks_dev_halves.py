"""bench.checks_dev splits the written dev pool into a read half (A) and a counted-only half (B) by
a hash of each text: the split must be stable, disjoint and cover every text once, or a rule writer
could read a half-B text and the acceptance count would lie."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.checks_dev import BUILD, DEV, FRESH, dev_rows, half_of


def test_halves_cover_every_text_once_and_disjoint():
    halves = dev_rows()
    texts = {json.loads(line)["text"] for p in DEV.glob("*.jsonl") for line in p.read_text(encoding="utf-8").splitlines() if line.strip()}
    texts |= {json.loads(line)["text"] for p in list(BUILD.glob("s19_*.jsonl")) + list(BUILD.glob("s20_*.jsonl"))
              for line in p.read_text(encoding="utf-8").splitlines() if line.strip()}
    got = [r[0] for rows in halves.values() for r in rows]
    assert len(got) == len(set(got)) == len(texts)
    assert all(half_of(r[0]) == "A" for r in halves["A"]) and all(half_of(r[0]) == "B" for r in halves["B"])
    assert {r[2] for r in halves["B"]} >= set(FRESH)  # "B fresh" is counted apart
    assert len(halves["A"]) > 1000 and len(halves["B"]) > 1000  # both halves carry weight


def test_half_does_not_depend_on_the_hash_seed():
    code = "from bench.checks_dev import half_of; print(''.join(half_of(t) for t in ['你好', '加微信', 'abc', '日结']))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout for seed in ("1", "2")}
    assert len(seen) == 1 and set(next(iter(seen)).strip()) <= {"A", "B"}
