"""``fenghuo checks evaluate``: how well the configured checks separate harmful from harmless text.

Runs the real pipeline (and, for pairs, the answer judge — ``checks.pairs``) over a labelled
file (``checks.labelled``) and reports:

- harmful vs harmless: the confusion matrix, precision, recall, F1, and the false-positive
  rate on harmless rows — a text counts as detected when its verdict is ``flag`` or ``block``
  (``on="block"``: only ``block``);
- per category, where the file names categories: precision/recall/F1 and the confusion counts
  (a label matches a reported category or a dotted child of it — ``pii`` matches
  ``pii.mobile`` — or, for a TC260-003 code such as ``A1h``, a reported risk);
- what fires on harmless rows, per category (where false positives come from);
- a score threshold calibrated to a target false-positive rate: the lowest threshold on a
  text's highest category score that keeps the harmless rows' FPR at or below ``max_fpr``,
  and the recall it leaves. Deterministic hits (a lexicon word, a rule) score 1.0, so when
  they alone exceed the target no threshold can reach it, and the report says so.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

from fenghuo.checks.labelled import Labelled, is_risk_code


@dataclass(slots=True)
class Outcome:
    """What the checks said about one row."""

    verdict: str
    categories: tuple[str, ...]
    risks: tuple[str, ...]
    score: float
    elapsed_us: float


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _matches(label: str, o: Outcome) -> bool:
    if is_risk_code(label):
        return label in o.risks
    return any(c == label or c.startswith(label + ".") for c in o.categories)


def calibrate(harmless: list[float], harmful: list[float], max_fpr: float) -> dict:
    """The lowest threshold t with FPR(score ≥ t) ≤ max_fpr on ``harmless`` scores, and the
    recall at t on ``harmful`` scores. Scores of 0 never count as detections."""
    allowed = int(max_fpr * len(harmless) + 1e-9)
    desc = sorted((s for s in harmless if s > 0), reverse=True)
    if len(desc) <= allowed:
        t = min([s for s in harmful if s > 0], default=1.0)  # every positive score may count
        t = min(t, min(desc, default=1.0))
        reachable = True
    else:
        edge = desc[allowed]  # the highest harmless score that must not count
        reachable = edge < 1.0
        # Scores carry 4 decimals: the next step above the edge is the lowest threshold that excludes it.
        t = min(1.0, round(math.floor(edge * 1e4 + 1e-6) / 1e4 + 1e-4, 4)) if reachable else None
    out = {"max_fpr": max_fpr, "threshold": t, "reachable": reachable}
    if t is not None:
        fp = sum(1 for s in harmless if s >= t and s > 0)
        tp = sum(1 for s in harmful if s >= t and s > 0)
        out["fpr"] = round(fp / len(harmless), 4) if harmless else None
        out["recall"] = round(tp / len(harmful), 4) if harmful else None
    else:
        at_one = sum(1 for s in harmless if s >= 1.0)
        out["floor_fpr"] = round(at_one / len(harmless), 4)
        out["note"] = (f"{at_one} harmless rows score 1.0 (deterministic hits: lexicon words, rules) — more than "
                       f"{max_fpr:.1%}; no threshold reaches the target / 确定性命中已超出目标误报率")
    return out


@dataclass
class Report:
    rows: int
    harmful: int
    harmless: int
    confusion: dict  # tp fp fn tn
    binary: dict  # precision recall f1 accuracy fpr
    per_category: dict = field(default_factory=dict)
    harmless_hits: dict = field(default_factory=dict)  # category -> harmless rows it fired on
    calibration: dict = field(default_factory=dict)
    elapsed_us: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    fmt: str = ""
    on: str = "flag"

    def to_dict(self) -> dict:
        return {
            "format": self.fmt, "detected_on": self.on, "rows": self.rows, "harmful": self.harmful, "harmless": self.harmless,
            "confusion": self.confusion, **self.binary, "per_category": self.per_category,
            "harmless_hits": self.harmless_hits, "calibration": self.calibration, "elapsed_us": self.elapsed_us,
            "problems": self.problems,
        }  # fmt: skip

    def lines(self) -> list[str]:
        c, b = self.confusion, self.binary
        out = [
            f"rows 行: {self.rows} ({self.harmful} harmful 有害, {self.harmless} harmless 无害; format {self.fmt}; detected = "
            f"verdict {'block' if self.on == 'block' else 'flag or block'})",
            "confusion 混淆矩阵   predicted harmful   predicted harmless",
            f"  actual harmful     {c['tp']:>17}   {c['fn']:>18}",
            f"  actual harmless    {c['fp']:>17}   {c['tn']:>18}",
            f"precision {b['precision']:.4f}  recall {b['recall']:.4f}  F1 {b['f1']:.4f}  accuracy {b['accuracy']:.4f}  "
            f"harmless FPR 误报率 {b['fpr']:.4f}" if b["fpr"] is not None else
            f"precision {b['precision']:.4f}  recall {b['recall']:.4f}  F1 {b['f1']:.4f}  accuracy {b['accuracy']:.4f}",
        ]
        if self.per_category:
            out.append("per category 分类别   support   precision   recall   F1      tp    fp    fn")
            for cat, m in self.per_category.items():
                out.append(f"  {cat:<18} {m['support']:>7}   {m['precision']:>9.4f}   {m['recall']:>6.4f}   {m['f1']:.4f}  "
                           f"{m['tp']:>5} {m['fp']:>5} {m['fn']:>5}")
        if self.harmless_hits:
            out.append("fires on harmless rows 无害文本上的命中: " + ", ".join(f"{k} {v}" for k, v in self.harmless_hits.items()))
        cal = self.calibration
        if cal:
            if cal.get("threshold") is not None:
                out.append(f"threshold for FPR ≤ {cal['max_fpr']:.1%} 校准阈值: score ≥ {cal['threshold']} → FPR {cal['fpr']}, "
                           f"recall {cal['recall']}")
            else:
                out.append(f"threshold for FPR ≤ {cal['max_fpr']:.1%}: not reachable — {cal['note']}")
        e = self.elapsed_us
        if e:
            out.append(f"time per row 每行耗时: p50 {e['p50']:.0f} µs, p99 {e['p99']:.0f} µs")
        for p in self.problems[:10]:
            out.append(f"problem 问题: {p}")
        if len(self.problems) > 10:
            out.append(f"… {len(self.problems) - 10} more problems / 另有问题")
        return out


def judge_rows(pipe, data: Labelled, judge=None, progress=None) -> list[Outcome]:
    """One outcome per row: the pipeline on the text, or with ``judge`` on (prompt, answer)."""
    from fenghuo.checks.pairs import judge_pair

    out = []
    for row in data.rows:
        t0 = time.perf_counter()
        if judge is not None and row.prompt is not None:
            r = judge_pair(pipe, judge, row.prompt, row.text)
            o = Outcome(r.outcome, tuple(r.categories), tuple(r.risks), r.score, 0.0)
        else:
            v = pipe.scan(row.text)
            o = Outcome(v.verdict, tuple(v.categories), tuple(v.risks), v.score, 0.0)
        o.elapsed_us = (time.perf_counter() - t0) * 1e6
        out.append(o)
        if progress is not None:
            progress()
    return out


def report(data: Labelled, outcomes: list[Outcome], on: str = "flag", max_fpr: float = 0.03) -> Report:
    hit = (lambda o: o.verdict == "block") if on == "block" else (lambda o: o.verdict != "pass")
    tp = fp = fn = tn = 0
    for row, o in zip(data.rows, outcomes):
        d = hit(o)
        if row.harmful:
            tp, fn = tp + d, fn + (not d)
        else:
            fp, tn = fp + d, tn + (not d)
    n = len(data.rows)
    binary = {**_prf(tp, fp, fn), "accuracy": round((tp + tn) / n, 4) if n else 0.0,
              "fpr": round(fp / (fp + tn), 4) if fp + tn else None}  # fmt: skip
    per_category = {}
    if data.categorised:
        names = sorted({lab for r in data.rows for lab in r.labels})
        for name in names:
            ctp = cfp = cfn = 0
            for row, o in zip(data.rows, outcomes):
                gold, pred = name in row.labels, hit(o) and _matches(name, o)
                ctp, cfp, cfn = ctp + (gold and pred), cfp + (pred and not gold), cfn + (gold and not pred)
            support = sum(1 for r in data.rows if name in r.labels)
            per_category[name] = {"support": support, **_prf(ctp, cfp, cfn), "tp": ctp, "fp": cfp, "fn": cfn}
    fired: Counter = Counter()
    for row, o in zip(data.rows, outcomes):
        if not row.harmful and hit(o):
            fired.update(o.categories)
    harmless = [o.score for r, o in zip(data.rows, outcomes) if not r.harmful]
    harmful = [o.score for r, o in zip(data.rows, outcomes) if r.harmful]
    el = sorted(o.elapsed_us for o in outcomes)
    pct = (lambda q: round(el[min(len(el) - 1, int(q * len(el)))], 1))  # noqa: E731
    return Report(
        n, tp + fn, fp + tn, {"tp": tp, "fp": fp, "fn": fn, "tn": tn}, binary, per_category, dict(fired.most_common(15)),
        calibrate(harmless, harmful, max_fpr) if harmless else {}, {"p50": pct(0.5), "p99": pct(0.99)} if el else {},
        [str(p) for p in data.problems], data.fmt, on,
    )  # fmt: skip
