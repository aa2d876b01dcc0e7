"""Detection quality beside cost: each shipped check alone and the whole shipped pipeline on the
shared dev data — F1 and the false-positive rate on harmless text next to the time per 1 KB
message — so a check that buys recall with false positives, or with microseconds, shows it.

Data (``$FENGHUO_DATA``): COLD dev (offensive 1 / 0), CValues responsibility prompts (all
harmless: a good model answers them), JADE v3 medium (each question's unsafe answer harmful,
its safe answer harmless; also judged as pairs with the answer judge), XSafety zh prompts
(no harm label per prompt: the share flagged is reported, split into the scenarios a model
must refuse and the rest). Every figure comes from ``fenghuo.checks.evaluate`` — the same
code as ``fenghuo checks evaluate`` — so the bench and the command cannot disagree.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fenghuo.platform.paths import shared_data_dir

# XSafety scenarios whose prompts ask for harm (checks/bank_risks.py: expectation refuse).
XSAFETY_REFUSE = ("Crimes_And_Illegal_Activities", "Reverse_Exposure", "Unsafe_Instruction_Topic")


def heldout_sets() -> dict:
    """The shared data the shipped models were not trained on, as ``Labelled`` sets by name.

    The classifier's build (``checks.build.classifier_data``) fixes a train/val/test split per
    source; only its *test* rows are used here: COLD dev (all of it), held-out JADE v1/v2
    questions and XSafety prompts (with our category labels), held-out CValues prompts
    (harmless), and the held-out generated messages (wording never trained on). JADE v3 is
    not used by the classifier (the answer judge cross-validates on it): all 500 pairs.
    XSafety scenarios outside the classifier's sources carry no harm label per prompt: their
    share flagged is reported apart, split into scenarios to refuse and the rest.
    """
    from fenghuo.checks.build.classifier_data import load_rows
    from fenghuo.checks.labelled import Labelled, Row, read_labelled

    d = shared_data_dir()
    groups: dict[str, list] = {"cold": [], "jade_heldout": [], "xsafety_heldout": [], "cvalues_heldout": [], "generated_heldout": []}
    rows, _ = load_rows(d)
    for r in rows:
        if r.split != "test":
            continue
        key = {"cold": "cold", "jade": "jade_heldout", "xsafety": "xsafety_heldout", "xsafety_commonsense": "xsafety_heldout",
               "xsafety_mental": "xsafety_heldout",
               "cvalues": "cvalues_heldout"}.get(r.source, "generated_heldout" if r.source.startswith("gen_") else None)
        if key:
            groups[key].append(Row(r.text, bool(r.labels), tuple(sorted(r.labels)), None, f"{r.source}:test"))
    out = {k: Labelled(v, [], "heldout") for k, v in groups.items()}
    jade_v3 = d / "traffic" / "jade_v3" / "jade_alignment_medium_zh.csv"
    out["jade_v3"] = read_labelled(jade_v3)
    out["jade_v3_pairs"] = read_labelled(jade_v3, pairs=True)
    from fenghuo.checks.build.classifier_data import XSAFETY_FILES, XSAFETY_MENTAL

    refuse, other = [], []
    for f in sorted((d / "banks" / "xsafety" / "zh").glob("*.csv")):
        if f.name in XSAFETY_FILES or f.name == Path(XSAFETY_MENTAL).name:
            continue  # the classifier's sources: in xsafety_heldout above
        rows_f = read_labelled(f, default_label="harmful").rows
        (refuse if f.stem in XSAFETY_REFUSE else other).extend(rows_f)
    out["xsafety_refuse"] = Labelled(refuse, [], "lines")
    out["xsafety_other"] = Labelled(other, [], "lines")
    return out


def _datasets(quick: bool) -> dict:
    out = heldout_sets()
    if quick:
        from fenghuo.checks.labelled import Labelled

        for k, v in out.items():
            out[k] = Labelled(v.rows[:: max(1, len(v.rows) // 300)], v.problems, v.fmt)
    return out


def cold_messages(n: int) -> list[str]:
    """≤ 1 KB cuts of COLD dev text, as in the pipeline timing."""
    import csv

    with (shared_data_dir() / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        text = "".join(row[4] for row in list(csv.reader(fh))[1:])
    msgs, i = [], 0
    while len(msgs) < n and i + 400 < len(text):
        chunk = text[i : i + 340]
        while len(chunk.encode()) > 1024:
            chunk = chunk[:-1]
        msgs.append(chunk)
        i += 340
    return msgs


def _cost(pipe, msgs: list[str]) -> tuple[float, float]:
    """p50 and p99 CPU µs of the scanning thread per message: on this shared 2-core machine the
    wall-clock tail is other people's processes (the pipeline section shows both)."""
    for m in msgs:
        pipe.scan(m)
    ts = []
    for m in msgs:
        m = (m + "\x00")[:-1]  # a fresh str, as after json.loads
        t0 = time.thread_time()
        pipe.scan(m)
        ts.append(time.thread_time() - t0)
    p50, p99 = np.percentile(np.array(ts) * 1e6, [50, 99])
    return float(p50), float(p99)


def quality_section(quick: bool) -> list[str]:
    from fenghuo.checks.evaluate import judge_rows, report
    from fenghuo.checks.pipeline import Pipeline, load_pipeline

    shipped = load_pipeline()
    data = _datasets(quick)
    msgs = cold_messages(500 if quick else 3000)
    subjects = [(f"{c.name} alone", Pipeline([c], shipped.policy)) for c in shipped.checks]
    subjects.append(("**whole shipped pipeline**", shipped))
    rows = []
    for label, pipe in subjects:
        res = {k: report(v, judge_rows(pipe, v)) for k, v in data.items() if k != "jade_v3_pairs"}
        p50, p99 = _cost(pipe, msgs)
        rows.append((label, res, p50, p99))
    judge_row = None
    try:
        from fenghuo.checks.pairs import load_judge

        judge = load_judge()
        t0 = time.perf_counter()
        pairs = data["jade_v3_pairs"]
        rep = report(pairs, judge_rows(shipped, pairs, judge))
        judge_row = (rep, (time.perf_counter() - t0) / len(pairs.rows) * 1e6)
    except ValueError as exc:
        judge_note = str(exc)
    n = {k: len(v.rows) for k, v in data.items()}
    out = [
        "### Detection quality beside cost\n",
        f"Shipped default pipeline (`{Path(shipped.source).name}`: {', '.join(shipped.names)}), each check alone and all "
        f"together, on shared data the shipped models were not trained on (`bench/checks_quality.py`, `heldout_sets`): COLD dev "
        f"({n['cold']:,} rows, offensive vs not), held-out JADE v1/v2 questions ({n['jade_heldout']:,}, all harmful), held-out "
        f"XSafety prompts of the classifier's scenarios ({n['xsafety_heldout']:,}; commonsense harmless), held-out CValues "
        f"prompts ({n['cvalues_heldout']:,}, all harmless), held-out generated messages ({n['generated_heldout']:,}; wording never "
        f"trained on), JADE v3 medium answers ({n['jade_v3']:,}: unsafe answers harmful, safe answers harmless), and the other "
        f"XSafety scenarios ({n['xsafety_refuse']:,} prompts in scenarios to refuse, {n['xsafety_other']:,} others; share flagged, "
        f"no per-prompt label). A text is detected when its verdict is flag or block; FPR = false-positive rate on harmless "
        f"rows; R = recall (all rows harmful). Cost: p50/p99 CPU µs of the scanning thread per ≤ 1 KB message "
        f"({len(msgs):,} COLD dev cuts), one core.\n",
        "| check | COLD F1 / FPR | JADE R | XSafety F1 / FPR | CValues FPR | generated F1 / FPR | JADE v3 answers F1 / FPR "
        "| XSafety refuse / other flagged | p50 / p99 CPU µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, res, p50, p99 in rows:
        b = {k: r.binary for k, r in res.items()}
        f = lambda k, b=b: f"{b[k]['f1']:.3f} / {b[k]['fpr']:.3f}" if b[k]["fpr"] is not None else f"{b[k]['f1']:.3f} / –"  # noqa: E731
        out.append(f"| {label} | {f('cold')} | {b['jade_heldout']['recall']:.3f} | {f('xsafety_heldout')} | "
                   f"{b['cvalues_heldout']['fpr']:.3f} | {f('generated_heldout')} | {f('jade_v3')} | "
                   f"{b['xsafety_refuse']['recall']:.3f} / {b['xsafety_other']['recall']:.3f} | {p50:.1f} / {p99:.1f} |")
    whole = rows[-1][1]
    cats: dict = {}
    for k in ("jade_heldout", "xsafety_heldout", "generated_heldout"):
        for cat, m in whole[k].per_category.items():
            cats.setdefault(cat, []).append((k, m))
    if cats:
        out += ["\nWhole pipeline, per category (held-out sets with category labels; a row counts for a category when the "
                "pipeline reports that category):\n", "| category | set | support | precision | recall | F1 |", "|---|---|---|---|---|---|"]
        for cat in sorted(cats):
            for k, m in cats[cat]:
                out.append(f"| {cat} | {k} | {m['support']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |")
    if judge_row:
        rep, us = judge_row
        b = rep.binary
        out.append(f"\nAnswers judged as replies (pipeline on the answer + answer judge, `fenghuo checks evaluate --pairs`) on "
                   f"JADE v3 medium: unsafe-answer recall {b['recall']:.3f}, safe answers flagged {b['fpr']:.3f}, F1 {b['f1']:.3f}, "
                   f"{us:.0f} µs per pair. (Target: recall ≥ 0.90 with ≤ 5 % of safe answers flagged.) In-sample for the "
                   f"judge, which ships trained on all 500 questions; its out-of-fold figures are in "
                   f"`checks/shipped/manifest.json`.")
    else:
        out.append(f"\nAnswers judged as pairs: not measured — {judge_note}.")
    cal = rows[-1][1]["cold"].calibration
    if cal and cal.get("threshold") is not None and cal["threshold"] < 1.0:  # 1.0: only deterministic hits, nothing to tune
        out.append(f"\nCOLD dev, whole pipeline: a score threshold of {cal['threshold']} would hold harmless FPR at "
                   f"{cal['fpr']} (target ≤ 3 %) with recall {cal['recall']}.")
    out += written_lines(shipped)
    return out + [""]


def written_lines(pipe) -> list[str]:
    """The whole pipeline on the sets written for this project (``bench/checks_written.py``):
    the shared data holds almost no real illicit ads, insults or self-harm talk."""
    from bench.checks_written import DATA, DEFAULT_FILES, measure, read_rows, totals

    out = ["\nWhole pipeline on texts written for this project (`python -m bench.checks_written --show` lists the misses; "
           "docs/checks.md says which set was read when):\n", "| set | harmful caught | harmless flagged |", "|---|---|---|"]
    for name in DEFAULT_FILES:
        if (DATA / name).exists():
            cells = measure(pipe, read_rows(DATA / name))
            (h, n), (fh, fn) = totals(cells, "harmful"), totals(cells, "harmless")
            out.append(f"| `{name}` | " + (f"{h}/{n} ({h / n:.1%})" if n else "–") + " | " + (f"{fh}/{fn} ({fh / fn:.1%})" if fn else "–") + " |")
    return out
