"""Accept or refuse a change to the shipped checks: the pipeline as it is against the same code
with the rule files of an older revision, on the written dev sets split into halves and on the
public sets whose harmless rows must not move.

Why halves: rules written from examples generalise much less than they fit (session 25: +81 on
the half their writers read, +26 on the other). The dev pool (``tests/checks/data/written_zh``)
is split by a hash of each text: half A (last byte of sha1 even) is what a rule writer reads;
half B (odd) is counted only, never read, so a gain there says the rule carries to new wording.
T is the build's own s19/s20 written rows (``checks/build/written_zh``), a third check.

    python -m bench.checks_dev --base-rev REV [--show A|T] [--public] [--only SUBSTR]
    python -m bench.checks_dev --base-config CFG --config CFG2 [--public]   # two pipelines (a model, say)

Half B is also counted apart for ``FRESH`` (dev files written after every candidate in use, used
by no classifier: "B fresh" and "B rest"), so a gain on rows nobody has measured before shows.

The acceptance rule (docs/checks.md "Knowledge rules"): a new rule must catch at least one half-B
text nothing caught before, with no harmless text newly flagged or blocked on any half, no COLD
train label-0 row newly flagged, no JADE v3 question weaker and no CValues prompt newly flagged
(``--public``). Texts are printed only for half A and T, never for B.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "checks" / "data" / "written_zh"
BUILD = ROOT / "src" / "fenghuo" / "checks" / "build" / "written_zh"
RULES = "src/fenghuo/checks/rules"
RANK = {"pass": 0, "flag": 1, "block": 2}
FRESH = ("fresh_s26.jsonl",)


def half_of(text: str) -> str:
    return "A" if hashlib.sha1(text.encode()).digest()[-1] % 2 == 0 else "B"


def dev_rows() -> dict[str, list[tuple[str, bool, str]]]:
    """(text, harmful, file name) per half; a text appears once, in the first file that holds it."""
    halves: dict[str, list[tuple[str, bool, str]]] = {"A": [], "B": [], "T": []}
    seen: set[str] = set()
    files = [("", p) for p in sorted(DEV.glob("*.jsonl"))] + [("T", p) for p in sorted(BUILD.glob("s19_*.jsonl")) + sorted(BUILD.glob("s20_*.jsonl"))]
    for fixed, path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            text, labels = row.get("text"), row.get("labels")
            if not isinstance(text, str) or not isinstance(labels, list):
                raise SystemExit(f"{path}:{n}: needs 'text' and a 'labels' list")
            if text in seen:
                continue
            seen.add(text)
            halves[fixed or half_of(text)].append((text, bool(labels), path.name))
    return halves


def public_rows(data: Path) -> dict[str, list[str]]:
    """Harmless public texts that must not move, and JADE v3's harmful questions."""
    from fenghuo.checks.build.classifier_data import bucket, split_of

    out: dict[str, list[str]] = {}
    with open(data / "classifier" / "cold" / "train.csv", encoding="utf-8-sig", newline="") as f:
        out["cold_label0"] = [r["TEXT"] for r in csv.DictReader(f) if r["label"].strip() == "0"]
    with open(data / "traffic" / "jade_v3" / "jade_alignment_medium_zh.csv", encoding="gb18030", newline="") as f:
        rows = list(csv.reader(f))
    out["jade_questions"] = [r[1] for r in rows[1:] if len(r) > 1 and r[1].strip()]
    prompts = [json.loads(x)["prompt"] for x in (data / "banks" / "cvalues" / "cvalues_responsibility_prompts.dev.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    out["cvalues_heldout"] = [p for p in prompts if split_of(bucket("cvalues", p.strip()), 35, 15) == "test"]
    out["cvalues_other"] = [p for p in prompts if split_of(bucket("cvalues", p.strip()), 35, 15) != "test"]
    return out


def cold_dev(data: Path) -> list[tuple[str, bool]]:
    """COLD's dev set: (text, offensive)."""
    with open(data / "classifier" / "cold" / "dev.csv", encoding="utf-8-sig", newline="") as f:
        return [(r["TEXT"], r["label"].strip() == "1") for r in csv.DictReader(f)]


def macro_f1(verdicts_: list[str], rows: list[tuple[str, bool]]) -> str:
    """The pipeline's COLD dev figures: offensive caught (not pass) vs harmless flagged, macro-F1."""
    tp = sum(v != "pass" and h for v, (_, h) in zip(verdicts_, rows))
    fp = sum(v != "pass" and not h for v, (_, h) in zip(verdicts_, rows))
    pos = sum(h for _, h in rows)
    fn, tn = pos - tp, len(rows) - pos - fp
    f1 = (tp / (2 * tp + fp + fn) + tn / (2 * tn + fn + fp)) if tp and tn else 0.0  # (2tp/.. + 2tn/..) / 2
    return f"caught {tp} of {pos}, harmless flagged {fp} of {len(rows) - pos}, macro-F1 {f1:.5f}"


def base_config(rev: str, into: Path) -> Path:
    """The packaged config with the rules check pointed at REV's rule files (same code)."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, RULES], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    import yaml

    cfg = yaml.safe_load((ROOT / "src" / "fenghuo" / "checks" / "default.yaml").read_text(encoding="utf-8"))
    for check in cfg["checks"]:
        if check.get("type") == "rules":
            check["files"] = [str(into / RULES)]
    path = into / "checks.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def verdicts(pipe, texts: list[str], blame: Counter | None = None) -> list[str]:
    """Each text's verdict; with ``blame``, count per finding rule the texts it made flag or block."""
    out = []
    for t in texts:
        v = pipe.scan(t)
        out.append(v.verdict)
        if blame is not None and v.verdict != "pass":
            for rule in {f.rule for f in v.findings if f.action.value != "mask"}:
                blame[rule] += 1
    return out


def compare_half(name: str, rows, new: list[str], old: list[str] | None, show: bool) -> None:
    harmful = [i for i, r in enumerate(rows) if r[1]]
    harmless = [i for i, r in enumerate(rows) if not r[1]]
    caught = sum(new[i] != "pass" for i in harmful)
    flagged = sum(new[i] != "pass" for i in harmless)
    blocked = sum(new[i] == "block" for i in harmless)
    print(f"half {name}: harmful caught {caught} of {len(harmful)}; harmless flagged {flagged} of {len(harmless)} (blocked {blocked})")
    if old is None:
        return
    kinds = {
        "NEW-CATCH": [i for i in harmful if old[i] == "pass" and new[i] != "pass"],
        "LOST": [i for i in harmful if old[i] != "pass" and new[i] == "pass"],
        "WEAKER": [i for i in harmful if RANK[new[i]] < RANK[old[i]] and new[i] != "pass"],
        "NEW-FP": [i for i in harmless if old[i] == "pass" and new[i] != "pass"],
        "NEW-BLOCK": [i for i in harmless if old[i] != "block" and new[i] == "block"],
        "FREED": [i for i in harmless if old[i] != "pass" and new[i] == "pass"],
    }
    print("  " + "  ".join(f"{k} {len(v)}" for k, v in kinds.items()))
    if show:
        for k, idx in kinds.items():
            for i in idx:
                print(f"    {k}: {rows[i][0]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-rev", help="git revision whose rule files form the base (same code)")
    ap.add_argument("--base-config", help="the base pipeline's config (instead of --base-rev: the same rules, another model, say)")
    ap.add_argument("--config", help="the candidate's pipeline config (default: the packaged one)")
    ap.add_argument("--show", action="append", choices=["A", "T"], default=[], help="print the texts that moved on this half (never B)")
    ap.add_argument("--public", action="store_true", help="also COLD train label-0, JADE v3 questions and CValues prompts (FENGHUO_DATA)")
    ap.add_argument("--only", help="only dev texts containing this substring (to look at one rule's reach)")
    ap.add_argument("--blame", action="store_true", help="per half, the rules behind harmless texts flagged (counts only; no texts)")
    args = ap.parse_args(argv)
    from fenghuo.checks.pipeline import load_pipeline

    halves = dev_rows()
    if args.only:
        halves = {k: [r for r in v if args.only in r[0]] for k, v in halves.items()}
    new_pipe = load_pipeline(args.config)
    old_pipe = None
    tmp = tempfile.TemporaryDirectory()
    if args.base_rev and args.base_config:
        raise SystemExit("--base-rev or --base-config, not both / 二者只能选一")
    if args.base_rev:
        old_pipe = load_pipeline(base_config(args.base_rev, Path(tmp.name)))
    elif args.base_config:
        old_pipe = load_pipeline(args.base_config)
    for name, rows in halves.items():
        texts = [r[0] for r in rows]
        new = verdicts(new_pipe, texts)
        old = verdicts(old_pipe, texts) if old_pipe else None
        compare_half(name, rows, new, old, name in args.show)
        if name == "B":  # counts only, as the whole half
            for part, keep in (("B fresh", True), ("B rest", False)):
                idx = [i for i, r in enumerate(rows) if (r[2] in FRESH) == keep]
                compare_half(part, [rows[i] for i in idx], [new[i] for i in idx], None if old is None else [old[i] for i in idx], False)
        if args.blame:
            blame: Counter = Counter()
            verdicts(new_pipe, [r[0] for r in rows if not r[1]], blame)
            print("  harmless flagged, by rule: " + ", ".join(f"{r} {n}" for r, n in blame.most_common()))
    if args.public:
        data = Path(os.environ.get("FENGHUO_DATA", ROOT.parent / "shared" / "data"))
        for name, texts in public_rows(data).items():
            new = verdicts(new_pipe, texts)
            line = f"{name}: {len(texts)} texts, flagged {sum(v != 'pass' for v in new)}, blocked {sum(v == 'block' for v in new)}"
            if old_pipe:
                old = verdicts(old_pipe, texts)
                moved = [i for i in range(len(texts)) if old[i] != new[i]]
                weaker = sum(RANK[new[i]] < RANK[old[i]] for i in moved)
                line += f"; moved {len(moved)} (up {len(moved) - weaker}, down {weaker})"
                if name != "jade_questions":
                    line += "".join(f"\n    {old[i]}→{new[i]}: {texts[i][:80]}" for i in moved if name != "cvalues_heldout")
            print(line)
        rows = cold_dev(data)
        new = verdicts(new_pipe, [t for t, _ in rows])
        print(f"cold_dev: {macro_f1(new, rows)}")
        if old_pipe:
            print(f"cold_dev base: {macro_f1(verdicts(old_pipe, [t for t, _ in rows]), rows)}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
