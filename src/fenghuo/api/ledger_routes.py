"""HTTP routes of the ledger: read, verify, checkpoint, export. Mounted by the app rather than
kept in ``ledger/``: an operator's read is filtered by which services it may see (the registry
and switch, above the ledger), and the ledger imports nothing above it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from fenghuo.api.views import CheckpointView, LedgerEntryView, LedgerVerified
from fenghuo.control import listing
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, text
from fenghuo.platform.web import current_actor, get_db
from fenghuo.response.ledger_scope import scope_keep as _scope_keep  # shared with the console

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
WHOLE_CHAIN_ROLES = (Role.admin, Role.auditor, Role.regulator)


def _whole_chain(actor: Actor) -> None:
    if actor.role not in WHOLE_CHAIN_ROLES:
        raise Forbidden("只有管理员、审计员和监管方可以读取整条账本", "only admins, auditors and regulators may read the whole ledger")


@router.get("", response_model=list[LedgerEntryView], **CONTRACT)
def entries(after: int = Query(0, ge=0, le=2**63 - 1), limit: int = Query(100, ge=1, le=5000), subject: str | None = None,
            actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Entries after a sequence number. Operators read only their own services' entries."""
    if actor.role not in WHOLE_CHAIN_ROLES:
        visible = listing.visible_ids(db, actor)
        if subject is None or subject not in visible:
            raise Forbidden("请用 subject 指定本提供者的服务", "name one of your own services with subject=")
    out = []
    keep = _scope_keep(db, actor) if actor.role in WHOLE_CHAIN_ROLES else None
    if keep is not None and subject is not None and not keep({"subject": subject}):
        raise Forbidden("该主体不在你的范围内", "that subject is outside your scope")
    with db.reader() as s:
        for e in store.iter_entries(s, after=after, subject=subject):
            if keep is not None and not keep(e):
                continue  # reads skip what is outside the scope; the export shows it as hashes
            out.append(e)
            if len(out) >= limit:
                break
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
