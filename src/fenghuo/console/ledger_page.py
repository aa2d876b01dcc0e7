"""账本 Ledger: the head, the last checkpoint, verification (the result, with the first bad
entry), a new signed checkpoint to download, and the export.

The rules of ``/api/v1/ledger`` hold: the whole chain (recent entries, checkpoint, export) is
for admins, auditors and regulators, a regulator or scoped auditor reading its own scope whole
and the rest of an export as hashes (``response.ledger_scope.scope_keep``, the API's predicate);
an operator reads only its own services' entries.
Verification reports only ok/broken and where, as the API's ``/ledger/verify`` does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from fenghuo.console import fleet_reads, reads
from fenghuo.console.web import SECURITY_HEADERS, ConsoleRoute, Viewer, db_of, posted, render, viewer
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Role
from fenghuo.response.ledger_scope import scope_keep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
WHOLE_CHAIN_ROLES = (Role.admin, Role.auditor, Role.regulator)  # as api/ledger_routes.py
RECENT = 100


def _whole_chain(who: Viewer) -> None:
    if who.actor.role not in WHOLE_CHAIN_ROLES:
        raise Forbidden("只有管理员、审计员和监管方可以读取整条账本", "only admins, auditors and regulators may read the whole ledger")


def recent(request: Request, who: Viewer) -> list[dict]:
    db = db_of(request)
    if who.actor.role in WHOLE_CHAIN_ROLES:
        keep = scope_keep(db, who.actor)  # a regulator or a scoped auditor: its scope only, as the API reads
        with db.reader() as s:
            seq, _ = store.head(s)
            window = RECENT if keep is None else RECENT * 20
            entries = [e for e in store.iter_entries(s, after=max(0, seq - window)) if keep is None or keep(e)]
        return [reads.readable(e) for e in entries[::-1][:RECENT]]
    ids = reads.visible_ids(db, who.actor) or set()  # an operator: its provider's services, one column
    return [reads.readable(e) for e in fleet_reads.recent_entries(db, ids, RECENT)]


@router.get("/ledger")
def ledger_page(request: Request, verify: int = 0, who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    with db.reader() as s:
        head_seq, head_hash = store.head(s)
    return render(request, who, "ledger.html", head_seq=head_seq, head_hash=head_hash,
                  checkpoint_seq=ledger.latest_checkpoint_seq(db), verified=ledger.verify_report(db) if verify else None,
                  ledger=recent(request, who), whole=who.actor.role in WHOLE_CHAIN_ROLES)


@router.post("/ledger/checkpoint")
def checkpoint(request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    _whole_chain(who)
    cp = ledger.checkpoint(db_of(request))
    return Response(cp.to_json(), media_type="application/json",
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="checkpoint-{cp.seq}.json"'})


@router.get("/ledger/export")
async def export(request: Request, who: Viewer = Depends(viewer)) -> StreamingResponse:
    _whole_chain(who)
    db = db_of(request)

    def lines_of() -> list[str]:  # a regulator's or scoped auditor's export: the rest as hashes, as the API's
        return list(ledger.export_lines(db, scope_keep(db, who.actor)))

    lines = await run_in_threadpool(lines_of)
    return StreamingResponse((line.encode() for line in lines), media_type="application/x-ndjson",
                             headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="ledger.jsonl"'})
