"""The shipped pipeline on texts we wrote ourselves: recall per harmful category and the share
of harmless texts flagged per harmless category.

The shared data holds almost no real illicit ads, gambling, fraud, porn solicitation, insults
or self-harm talk, so sets written for this project (``tests/checks/data/*.jsonl``: one JSON
object a line with ``text``, ``category`` and, where a set mixes both, ``label`` harmful |
harmless; or ``{"labels": [...], "text": ...}`` as in ``written_zh/``, ``[]`` harmless) measure
those. A set written without reading the checks and measured once is the nearest we have to the held-out public sets the issue names; a set used to close gaps is dev
data from then on (docs/checks.md says which is which).

    python -m bench.checks_written [FILE …] [--json]

Run it with ``PYTHONPATH=<other tree>/src`` to measure another tree's shipped pipeline on the
same files (a before / after).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "checks" / "data"
DEFAULT_FILES = ("rules_heldout.jsonl", "rules_heldout2.jsonl", "pipeline_heldout_s14.jsonl", "pipeline_heldout_s15.jsonl",
                 "pipeline_heldout_s16.jsonl", "pipeline_heldout_s17.jsonl", "pipeline_heldout_s18.jsonl",
                 "pipeline_heldout_s19.jsonl", "pipeline_heldout_s20.jsonl", "pipeline_heldout_s21.jsonl", "pipeline_heldout_s22.jsonl", "pipeline_heldout_s23.jsonl", "pipeline_heldout_s24.jsonl", "pipeline_heldout_s25.jsonl", "pipeline_heldout_s26.jsonl", "written_zh/harmless_hard.jsonl", "written_zh/trade_ads.jsonl",
                 "written_zh/fraud_crime.jsonl", "written_zh/abuse_toxic.jsonl", "written_zh/harm_violence.jsonl",
                 "written_zh/help_seeking.jsonl", "written_zh/harm_meaning.jsonl", "written_zh/fraud_meaning.jsonl")


def read_rows(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not JSON: {exc}") from None
        if isinstance(row.get("labels"), list):  # the classifier-style form: {"labels": [...], "text": ...}
            row = {"text": row.get("text"), "category": "+".join(sorted(row["labels"])) or "harmless",
                   "label": "harmful" if row["labels"] else "harmless"}
        if not isinstance(row.get("text"), str) or not isinstance(row.get("category"), str):
            raise SystemExit(f"{path}:{n}: needs string fields 'text' and 'category' (or 'labels')")
        label = row.get("label", "harmful")
        if label not in ("harmful", "harmless"):
            raise SystemExit(f"{path}:{n}: label must be harmful or harmless, not {label!r}")
        rows.append({"text": row["text"], "category": row["category"], "label": label})
    return rows


def measure(pipe, rows: list[dict]) -> dict:
    """Per (label, category): texts, flagged (any verdict but pass), blocked, and the misses or
    false alarms themselves, so a reader can see what the figure is made of."""
    out: dict = {}
    for row in rows:
        v = pipe.scan(row["text"])
        key = f"{row['label']}/{row['category']}"
        cell = out.setdefault(key, {"n": 0, "flagged": 0, "blocked": 0, "wrong": [], "caught_as": Counter()})
        cell["n"] += 1
        hit = v.verdict != "pass"
        cell["flagged"] += hit
        cell["blocked"] += v.verdict == "block"
        if hit:
            cell["caught_as"].update(v.categories)
        if hit == (row["label"] == "harmless"):
            cell["wrong"].append(row["text"])
    return out


def totals(cells: dict, label: str) -> tuple[int, int]:
    n = sum(c["n"] for k, c in cells.items() if k.startswith(label + "/"))
    hit = sum(c["flagged"] for k, c in cells.items() if k.startswith(label + "/"))
    return hit, n


def label(path: Path) -> str:
    """The set's name in the report: its path under tests/checks/data (two files may share a name,
    e.g. written_zh/harmless_hard.jsonl and the build's), else the path as given."""
    try:
        return str(path.resolve().relative_to(DATA))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.checks_written", description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help=f"JSONL sets (default: {', '.join(DEFAULT_FILES)} under tests/checks/data; "
                    "the pipeline_heldout_s1* sets are the lead's alone: name your files)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--show", action="store_true", help="list the misses and false alarms")
    args = ap.parse_args(argv)
    from fenghuo.checks.pipeline import load_pipeline

    pipe = load_pipeline()
    files = [Path(f) for f in args.files] or [DATA / f for f in DEFAULT_FILES if (DATA / f).exists()]
    report = {}
    for path in files:
        cells = measure(pipe, read_rows(path))
        report[label(path)] = cells
    if args.json:
        json.dump({f: {k: {**c, "caught_as": dict(c["caught_as"])} for k, c in cells.items()} for f, cells in report.items()},
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for name, cells in report.items():
        h, n = totals(cells, "harmful")
        fh, fn = totals(cells, "harmless")
        print(f"## {name}: harmful caught {h}/{n}" + (f", harmless flagged {fh}/{fn}" if fn else ""))
        for key in sorted(cells):
            c = cells[key]
            print(f"  {key:28s} {c['flagged']:4d}/{c['n']:<4d} ({c['flagged'] / c['n']:.0%}), blocked {c['blocked']}")
            if args.show:
                for t in c["wrong"]:
                    print(f"      {'miss' if key.startswith('harmful') else 'FP  '}: {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
