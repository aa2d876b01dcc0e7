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

import numpy as np

from fenghuo.platform.paths import shared_data_dir

# XSafety scenarios whose prompts ask for harm (evaluation/loaders/mapping.py: expectation refuse).
XSAFETY_REFUSE = ("Crimes_And_Illegal_Activities", "Reverse_Exposure", "Unsafe_Instruction_Topic")


def _datasets(quick: bool) -> dict:
    from fenghuo.checks.labelled import Labelled, read_labelled

    d = shared_data_dir()
    out = {
        "cold": read_labelled(d / "classifier" / "cold" / "dev.csv"),
        "cvalues": read_labelled(d / "banks" / "cvalues" / "cvalues_responsibility_prompts.dev.jsonl", default_label="harmless"),
        "jade_v3": read_labelled(d / "traffic" / "jade_v3" / "jade_alignment_medium_zh.csv"),
        "jade_v3_pairs": read_labelled(d / "traffic" / "jade_v3" / "jade_alignment_medium_zh.csv", pairs=True),
    }
    refuse, other = [], []
    for f in sorted((d / "banks" / "xsafety" / "zh").glob("*.csv")):
        rows = read_labelled(f, default_label="harmful").rows
        (refuse if f.stem in XSAFETY_REFUSE else other).extend(rows)
    out["xsafety_refuse"] = Labelled(refuse, [], "lines")
    out["xsafety_other"] = Labelled(other, [], "lines")
    if quick:
        for k, v in out.items():
            out[k] = Labelled(v.rows[:: max(1, len(v.rows) // 300)], v.problems, v.fmt)
    return out


def _messages(n: int) -> list[str]:
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
    msgs = _messages(500 if quick else 3000)
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
        f"Shipped default pipeline (`{shipped.source}`: {', '.join(shipped.names)}), each check alone and all together, "
        f"on the shared dev data: COLD dev ({n['cold']:,} rows, offensive vs not), CValues prompts ({n['cvalues']:,}, all harmless), "
        f"JADE v3 medium answers ({n['jade_v3']:,}: unsafe answers harmful, safe answers harmless), XSafety zh prompts "
        f"({n['xsafety_refuse']:,} in the scenarios to refuse, {n['xsafety_other']:,} others; share flagged). A text is "
        f"detected when its verdict is flag or block. FPR = false-positive rate on the harmless rows. Cost: p50/p99 CPU µs "
        f"of the scanning thread per ≤ 1 KB message ({len(msgs):,} COLD dev cuts), one core.\n",
        "| check | COLD F1 | COLD FPR | CValues FPR | JADE v3 F1 | JADE v3 safe-answer FPR | XSafety refuse flagged | XSafety other flagged | p50 CPU µs | p99 CPU µs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, res, p50, p99 in rows:
        c, cv, j = res["cold"].binary, res["cvalues"].binary, res["jade_v3"].binary
        xr, xo = res["xsafety_refuse"].binary["recall"], res["xsafety_other"].binary["recall"]
        out.append(f"| {label} | {c['f1']:.3f} | {c['fpr']:.3f} | {cv['fpr']:.3f} | {j['f1']:.3f} | {j['fpr']:.3f} | "
                   f"{xr:.3f} | {xo:.3f} | {p50:.1f} | {p99:.1f} |")
    if judge_row:
        rep, us = judge_row
        b = rep.binary
        out.append(f"\nAnswers judged as replies (pipeline on the answer + answer judge, `fenghuo checks evaluate --pairs`) on "
                   f"JADE v3 medium: unsafe-answer recall {b['recall']:.3f}, safe answers flagged {b['fpr']:.3f}, F1 {b['f1']:.3f}, "
                   f"{us:.0f} µs per pair. (Target: recall ≥ 0.90 with ≤ 5 % of safe answers flagged.)")
    else:
        out.append(f"\nAnswers judged as pairs: not measured — {judge_note}.")
    cal = rows[-1][1]["cold"].calibration
    if cal:
        if cal.get("threshold") is not None and cal["threshold"] < 1.0:  # 1.0: only deterministic hits, nothing to tune
            out.append(f"\nCOLD dev, whole pipeline: a score threshold of {cal['threshold']} would hold harmless FPR at "
                       f"{cal['fpr']} (target ≤ 3 %) with recall {cal['recall']}.")
    return out + [""]
