"""语料人工抽检 Corpus review (issue 17; CN-TC-26, CN-TC-11): pick a manual sample drawn by
``fenghuo corpus sample`` (the latest by default), see the next item not yet reviewed — its text
and provenance (source, file, line, annotator) — and record pass or fail; the running pass rate
is shown with its Wilson interval against 96 % of ≥ 4,000.

The reviewer is the logged-in person (the token's name), never typed in, and an item's annotator
may not review it (CN-TC-11): ``corpus.manual.record_review`` refuses that, as it does for
``fenghuo corpus review``. The sample and its reviews live in files under the data directory
(``<data_dir>/corpus/sample-*/``), read and written only through the functions that command
uses (``corpus.manual.load_items``, ``load_reviews``, ``record_review``, ``review_summary``); each
verdict is written to the ledger as ``corpus.review`` with the same payload the command writes.
Operators and admins review; auditors and regulators read only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, viewer
from fenghuo.corpus import manual, runs
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, NotFound
from fenghuo.platform.roles import Role

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
REVIEWERS = (Role.operator, Role.admin)


def samples() -> list[str]:
    """Finished sample runs, newest first (what ``runs.latest_run('sample')`` picks from)."""
    root = runs.corpus_dir()
    return sorted((p.name for p in root.glob("sample-*") if (p / "summary.json").exists()), reverse=True)


def folder_of(run: str) -> Path:
    """A sample folder by its run name, only among the listed runs (no path from a form)."""
    found = samples()
    if not run:
        if not found:
            raise NotFound("没有抽样，请先运行 fenghuo corpus sample", "no sample yet: run fenghuo corpus sample first", code="not_found")
        return runs.corpus_dir() / found[0]
    if run not in found:
        raise NotFound(f"未知抽样 {run}", f"unknown sample {run}", code="not_found")
    return runs.corpus_dir() / run


def reviewer_of(who: Viewer) -> str:
    """The reviewer's identity: the session token's name (what ``--reviewer`` names in the CLI)."""
    return who.actor.name


def next_item(items: dict[str, dict[str, Any]], done: set[str], reviewer: str, after: str = "") -> dict[str, Any] | None:
    """The first item in draw order not yet reviewed and not annotated by this reviewer (after
    ``after`` when the reviewer skipped one), as ``fenghuo corpus review`` walks them."""
    todo = [it for it in items.values() if it["id"] not in done and it.get("annotator") != reviewer]
    ids = [it["id"] for it in todo]
    if after in ids and ids.index(after) + 1 < len(ids):
        return todo[ids.index(after) + 1]
    return todo[0] if todo else None


@router.get("/corpus")
def corpus_page(request: Request, run: str = "", after: str = "", who: Viewer = Depends(viewer)) -> Response:
    found = samples()
    if not found and not run:
        return render(request, who, "corpus.html", runs=[], run="", summary=None, item=None)
    folder = folder_of(run)
    items = manual.load_items(folder)
    done = {r["item"] for r in manual.load_reviews(folder)}
    reviewer = reviewer_of(who)
    summary = manual.review_summary(folder)
    meta = runs.read_json(folder / "summary.json")
    own = sum(1 for it in items.values() if it.get("annotator") == reviewer and it["id"] not in done)
    return render(request, who, "corpus.html", runs=found, run=folder.name, meta=meta, summary=summary, reviewer=reviewer,
                  item=next_item(items, done, reviewer, after), own=own,
                  may_review=who.actor.role in REVIEWERS)


@router.post("/corpus/review")
def review(request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    if who.actor.role not in REVIEWERS:
        raise Forbidden(f"角色 {who.actor.role.value} 只能查看语料抽检", f"role {who.actor.role.value} may only read the corpus review",
                        code="forbidden")
    folder = folder_of(form.get("run", ""))
    reviewer = reviewer_of(who)
    items = manual.load_items(folder)
    verdict = form.get("verdict", "")
    manual.record_review(folder, items, form.get("item", ""), reviewer, verdict, form.get("note", "").strip() or None)
    rate = record_in_ledger(db_of(request), who, folder, reviewer)
    return back(f"/corpus?run={folder.name}", who.t(
        f"已记录 {form.get('item')}：{'合格' if verdict == 'pass' else '不合格'}；合格率 {rate['rate']:.2%}（{rate['passed']}/{rate['n']}）",
        f"recorded {form.get('item')}: {verdict}; pass rate {rate['rate']:.2%} ({rate['passed']}/{rate['n']})"))


def record_in_ledger(db: Database, who: Viewer, folder: Path, reviewer: str) -> dict[str, Any]:
    """The ``corpus.review`` ledger entry ``fenghuo corpus review`` appends (one per verdict here)."""
    summary = manual.review_summary(folder)
    meta = runs.read_json(folder / "summary.json")
    rate = summary["pass_rate"]
    runs.record(db, who.actor.label, f"corpus:{meta['corpus']}", "review", runs.ledger_payload(
        "review", folder, None, None, {"reviewer": reviewer, "recorded": 1, "manifest_sha256": meta["manifest_sha256"]},
        runs.file_sha256(folder / "reviews.jsonl"), {k: rate[k] for k in ("passed", "n", "rate", "status")}))
    return rate
