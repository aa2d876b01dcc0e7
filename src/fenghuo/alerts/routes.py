"""HTTP routes of alerting: warnings (list, show, acknowledge), silences, the delivery log and a
rule-file check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from fenghuo.alerts import silences as silence_service
from fenghuo.alerts import store
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.models import NotificationRow, WarningRow
from fenghuo.alerts.rules import check_doc
from fenghuo.alerts.views import NotificationView, RuleCheck, SilenceView, WarningDetail, WarningView
from fenghuo.control import listing
from fenghuo.platform.db import Database
from fenghuo.platform.errors import DocumentLimit, DocumentTooLarge, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, raw_body
from fenghuo.platform.web import current_actor, get_db
from fenghuo.platform.yamlfile import parse_yaml

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def _engine(request: Request) -> AlertEngine:
    return request.app.state.runtime.alerts  # fenghuo.api.runtime


def _visible(db: Database, actor: Actor) -> set[str] | None:
    if actor.role in (Role.admin, Role.system):
        return None
    return listing.visible_ids(db, actor)


@router.get("/warnings", response_model=list[WarningView], **CONTRACT)
def list_warnings(state: str | None = None, service: str | None = None, limit: int = 200,
                  actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """``state``: open (pending + firing), pending, firing or resolved; newest first."""
    if state not in (None, "open", "pending", "firing", "resolved"):
        raise Invalid("state 必须是 open、pending、firing 或 resolved", "state must be open, pending, firing or resolved", field="state")
    visible = _visible(db, actor)
    with db.reader() as s:
        rows = store.list_warnings(s, state=state, service=service, limit=min(max(limit, 1), 1000))
        return [store.view(r) for r in rows if visible is None or r.service_id in visible]


def _warning(db: Database, actor: Actor, warning_id: str) -> WarningRow:
    with db.reader() as s:
        row = s.get(WarningRow, warning_id)
    visible = _visible(db, actor)
    if row is None or (visible is not None and row.service_id not in visible):
        raise NotFound(f"未知预警 {warning_id}", f"unknown warning {warning_id}")
    return row


@router.get("/warnings/{warning_id}", response_model=WarningDetail, **CONTRACT)
def show_warning(warning_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    row = _warning(db, actor, warning_id)
    with db.reader() as s:
        sent = s.execute(select(NotificationRow).order_by(NotificationRow.created_at)).scalars().all()
        log = [store.notification_view(n) for n in sent if warning_id in (n.warning_ids or [])]
    return {**store.view(row), "notifications": log}


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(min_length=1, max_length=200)
    note: str = ""


@router.post("/warnings/{warning_id}/ack", response_model=WarningView, **CONTRACT)
def acknowledge(warning_id: str, body: AckBody, request: Request, actor: Actor = Depends(current_actor),
                db: Database = Depends(get_db)) -> dict[str, Any]:
    if actor.role is Role.auditor:
        raise Forbidden("审计员只能查看", "an auditor reads but may not acknowledge")
    _warning(db, actor, warning_id)
    return _engine(request).acknowledge(warning_id, body.owner, body.note, actor.label)


class SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[Any]
    reason: str
    duration: str | None = None
    until_resolved: bool = False
    starts_in: str | None = None


@router.get("/silences", response_model=list[SilenceView], **CONTRACT)
def list_silences(all: bool = False,  # noqa: A002 - the query parameter is ?all=
                   actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    return silence_service.list_silences(db, include_ended=all, actor=actor)


@router.post("/silences", response_model=SilenceView, **CONTRACT)
def create_silence(body: SilenceBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    if actor.role is Role.auditor:
        raise Forbidden("审计员只能查看", "an auditor reads but may not silence")
    if actor.role is Role.operator:
        from fenghuo.alerts.silence_match import parse_matchers

        visible = _visible(db, actor) or set()
        named = [m["value"] for m in parse_matchers(body.matchers) if m["name"] == "service" and m["op"] == "="]
        if not named or any(s not in visible for s in named):
            raise Forbidden("运营者的静默必须用 service=… 指定本提供者的服务",
                            "an operator's silence must name one of its own services with service=…")
    return silence_service.create(db, actor, body.matchers, body.reason, duration=body.duration,
                                  until_resolved=body.until_resolved, starts_in=body.starts_in)


@router.delete("/silences/{silence_id}", response_model=SilenceView, **CONTRACT)
def end_silence(silence_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    if actor.role is Role.auditor:
        raise Forbidden("审计员只能查看", "an auditor reads but may not end a silence")
    return silence_service.expire(db, actor, silence_id)


@router.get("/notifications", response_model=list[NotificationView], **CONTRACT)
def notifications(status: str | None = None, limit: int = 200, actor: Actor = Depends(current_actor),
                  db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """The delivery log: what was sent, retried, failed, silenced or inhibited."""
    if actor.role not in (Role.admin, Role.system, Role.auditor):
        raise Forbidden("只有管理员和审计员可查看完整投递记录", "only admins and auditors read the whole delivery log")
    with db.reader() as s:
        q = select(NotificationRow).order_by(NotificationRow.created_at.desc()).limit(min(max(limit, 1), 1000))
        if status:
            q = q.where(NotificationRow.status == status)
        return [store.notification_view(n) for n in s.execute(q).scalars()]


@router.post("/rules/check", response_model=RuleCheck, **CONTRACT,
             openapi_extra=raw_body(**{"application/yaml": {"type": "string"}}))
async def check_rules(request: Request, actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    """Body: a rule file (YAML). Answers ``{ok, rules, problems: [{file, line, field, problem}]}``;
    a body over a reader limit (size, depth, aliases, nodes) is 413/422 naming the limit. Any
    authenticated role may check a file (it changes nothing; ``platform.web`` lets an auditor
    send this one POST); the token is checked before the body is read, the body is parsed in a
    worker thread."""
    body = await request.body()
    windows = _engine(request).monitor.indicators.window_lengths
    try:
        rules, problems = await run_in_threadpool(lambda: check_doc(parse_yaml(body, "<request>"), windows))
    except (DocumentLimit, DocumentTooLarge):
        raise
    except Invalid as exc:
        return {"ok": False, "rules": 0, "problems": [{"file": "<request>", "line": exc.details.get("line"),
                                                        "field": None, "problem": exc.message}]}
    return {"ok": not problems, "rules": len(rules), "problems": problems}
