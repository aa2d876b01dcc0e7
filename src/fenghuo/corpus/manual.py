"""The manual sample (CN-TC-26, CN-TD-07: ≥ 4,000 items from the whole corpus, ≥ 96 % passing)
and its reviews, with annotator ≠ reviewer (CN-TC-11).

The sample is the ``n`` samples with the smallest ``figures.unit(seed, source, file, line)``
over the whole corpus: uniform, reproducible from the seed alone, and drawn in one streaming
pass holding only ``n`` items. Reviews are appended to ``reviews.jsonl`` in the sample's folder
(the last word on an item counts); a review by the item's annotator is refused.
"""

from __future__ import annotations

import heapq
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fenghuo.corpus.figures import MANUAL_MIN_N, MANUAL_PASS_MIN, pass_rate, unit
from fenghuo.corpus.manifest import Manifest
from fenghuo.corpus.readers import read_corpus
from fenghuo.platform.errors import Conflict, Invalid, NotFound

VERDICTS = ("pass", "fail")


def draw(m: Manifest, n: int, seed: int, annotator: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """(items ordered by their draw key, population size)."""
    heap: list[tuple[float, int, dict[str, Any]]] = []  # max-heap on the key, through negation
    population = 0
    for s in read_corpus(m.sources):
        if s.text is None:
            continue
        population += 1
        key = unit(seed, s.source, s.file, s.line)
        if len(heap) < n:
            heapq.heappush(heap, (-key, population, _item(s, annotator)))
        elif -heap[0][0] > key:
            heapq.heapreplace(heap, (-key, population, _item(s, annotator)))
    items = [it for _, _, it in sorted(heap, key=lambda x: (-x[0], x[1]))]
    return items, population


def _item(s, annotator: str | None) -> dict[str, Any]:
    return {"id": s.id, "source": s.source, "file": s.file, "line": s.line, "text": s.text,
            "annotator": s.meta.get("annotator") or annotator}


def load_items(run: Path) -> dict[str, dict[str, Any]]:
    path = run / "sample.jsonl"
    if not path.exists():
        raise NotFound(f"不是抽样目录：{run}", f"not a sample folder: {run}", code="not_found")
    return {it["id"]: it for it in (json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip())}


def load_reviews(run: Path) -> list[dict[str, Any]]:
    path = run / "reviews.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a torn last line (killed mid-write)
            continue
    return out


def check_review(item: dict[str, Any] | None, item_id: str, reviewer: str, verdict: str) -> None:
    if item is None:
        raise NotFound(f"样本中没有该条目：{item_id}", f"no item {item_id} in this sample", code="not_found")
    if verdict not in VERDICTS:
        raise Invalid(f"结论应为 pass 或 fail：{verdict}", f"verdict must be pass or fail: {verdict}")
    if not reviewer.strip():
        raise Invalid("需要审核人", "a reviewer is required")
    if item.get("annotator") and item["annotator"] == reviewer:
        raise Conflict(f"标注人不能审核自己标注的条目（CN-TC-11）：{reviewer}",
                       f"an annotator may not review their own item (CN-TC-11): {reviewer}", code="same_person")


def record_review(run: Path, items: dict[str, dict[str, Any]], item_id: str, reviewer: str, verdict: str,
                  note: str | None = None) -> dict[str, Any]:
    check_review(items.get(item_id), item_id, reviewer, verdict)
    rec = {"item": item_id, "reviewer": reviewer, "verdict": verdict, "note": note,
           "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    with open(run / "reviews.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.flush()
    return rec


def review_summary(run: Path) -> dict[str, Any]:
    """The pass rate with its Wilson interval against 96 % (n ≥ 4,000), and coverage."""
    items = load_items(run)
    last: dict[str, dict[str, Any]] = {}
    for r in load_reviews(run):
        last[r["item"]] = r
    passed = sum(1 for r in last.values() if r["verdict"] == "pass")
    rate = pass_rate(passed, len(last), MANUAL_PASS_MIN, MANUAL_MIN_N)
    if len(last) < len(items) and rate["status"] == "pass":
        rate["status"] = "incomplete"
    annotators = {it["annotator"] for it in items.values() if it.get("annotator")}
    reviewers = {r["reviewer"] for r in last.values()}
    return {"items": len(items), "reviewed": len(last), "pending": len(items) - len(last),
            "failed": [{"item": k, "reviewer": r["reviewer"], "note": r.get("note")} for k, r in last.items() if r["verdict"] == "fail"],
            "pass_rate": rate, "reviewers": sorted(reviewers), "annotators": sorted(annotators),
            "separated": all(items[k].get("annotator") != r["reviewer"] for k, r in last.items() if k in items)}
