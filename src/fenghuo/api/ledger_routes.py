"""HTTP routes of the ledger: read, verify, checkpoint, export. Mounted by the app rather than
kept in ``ledger/``: an operator's read is filtered by which services it may see (the registry
and switch, above the ledger), and the ledger imports nothing above it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from fenghuo.api.views import CheckpointView, LedgerEntryView, LedgerVerified
from fenghuo.control import listing
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, text
from fenghuo.platform.web import current_actor, get_db
from fenghuo.response.ledger_scope import scope_keep as _scope_keep  # shared with the console

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
WHOLE_CHAIN_ROLES = (Role.admin, Role.auditor, Role.regulator)
# Entries a scoped read examines for one page at most: a small scope in a long ledger answers a
# short (or empty) page and the cursor of where it stopped, instead of reading the whole chain.
SCAN_PER_PAGE = 20000


def _whole_chain(actor: Actor) -> None:
    if actor.role not in WHOLE_CHAIN_ROLES:
        raise Forbidden("只有管理员、审计员和监管方可以读取整条账本", "only admins, auditors and regulators may read the whole ledger")


@router.get("", response_model=list[LedgerEntryView], **CONTRACT)
def entries(request: Request, response: Response, after: int = Query(0, ge=0, le=2**63 - 1),
            limit: int = Query(100, ge=1, le=5000), subject: str | None = None,
            actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of entries after a sequence number, in order. Operators read only their own services'
    entries; a regulator's or scoped auditor's read skips what is outside its scope. ``X-Next-Cursor``
    (and ``Link``): the sequence number to pass as ``after`` for the next page; no header: the end
    of the ledger was reached. A scoped page may hold fewer than ``limit`` entries (it examines at
    most ``SCAN_PER_PAGE``): follow the header, not the page's length."""
    if actor.role not in WHOLE_CHAIN_ROLES:
        visible = listing.visible_ids(db, actor)
        if subject is None or subject not in visible:
            raise Forbidden("请用 subject 指定本提供者的服务", "name one of your own services with subject=")
    out = []
    keep = _scope_keep(db, actor) if actor.role in WHOLE_CHAIN_ROLES else None
    if keep is not None and subject is not None and not keep({"subject": subject}):
        raise Forbidden("该主体不在你的范围内", "that subject is outside your scope")
    stopped = None  # the last sequence number examined, when the page stops before the end
    with db.reader() as s:
        for n, e in enumerate(store.iter_entries(s, after=after, subject=subject, batch=min(5000, limit + 1 if keep is None else 5000)),
                              start=1):
            if len(out) >= limit:  # one more entry to show: the next page starts after the last one shown
                stopped = out[-1]["seq"]
                break
            if keep is None or keep(e):
                out.append(e)  # reads skip what is outside the scope; the export shows it as hashes
            elif n >= SCAN_PER_PAGE:
                stopped = e["seq"]
                break
    pages.link_headers(response, request, pages.Page(out, str(stopped) if stopped is not None else None))
    return out


@router.get("/verify", response_model=LedgerVerified, **CONTRACT)
def verify(actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return ledger.verify_report(db)


@router.post("/checkpoint", response_model=CheckpointView, **CONTRACT)
def checkpoint(actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    _whole_chain(actor)
    return asdict(ledger.checkpoint(db))


@router.get("/export", responses=text("application/x-ndjson", "one ledger entry per line"))
def export(actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> StreamingResponse:
    _whole_chain(actor)
    keep = _scope_keep(db, actor)  # a regulator's or scoped auditor's export: the rest as hashes
    return StreamingResponse((line.encode() for line in ledger.export_lines(db, keep)), media_type="application/x-ndjson")
