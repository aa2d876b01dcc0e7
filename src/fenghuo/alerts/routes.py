"""HTTP routes of alerting: warnings (list, show, acknowledge), silences, the delivery log and a
rule-file check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from fenghuo.alerts import silences as silence_service
from fenghuo.alerts import store
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.models import WarningRow
from fenghuo.alerts.rules import check_doc
from fenghuo.alerts.views import NotificationView, RuleCheck, SilenceView, WarningDetail, WarningView
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.errors import DocumentLimit, DocumentTooLarge, Forbidden, Invalid, NotFound
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, raw_body
from fenghuo.platform.web import current_actor, get_db
from fenghuo.platform.yamlfile import parse_yaml
from fenghuo.registry import scope
from fenghuo.registry.models import Service

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def _engine(request: Request) -> AlertEngine:
    return request.app.state.runtime.alerts  # fenghuo.api.runtime


def _sees(db: Database, actor: Actor, service_ids: list[str]) -> bool:
    """Whether ``actor`` may see every one of these services: asked of these rows alone, never
    by reading every visible id (a regulator's at 100,000 services is tens of thousands)."""
    if actor.role in (Role.admin, Role.system):
        return True
    with db.reader() as s:
        found = s.execute(select(Service.id).where(Service.id.in_(set(service_ids)), scope.visible_filter(s, actor))).scalars()
        return set(found) == set(service_ids)


@router.get("/warnings", response_model=list[WarningView], **CONTRACT)
def warnings(request: Request, response: Response, state: str | None = None, service: str | None = None,
             level: str | None = None, alert: str | None = None, after: str | None = pages.AFTER,
             limit: int = pages.LIMIT, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of warnings, newest first, filtered in the database. ``state``: open (pending +
    firing), pending, firing or resolved; ``level``: blue, yellow, orange or red. When there are
    more, ``X-Next-Cursor`` (and ``Link: <…>; rel="next"``) names the next page's ``after``."""
    page = store.warning_page(db, actor, store.WarningFilter(state=state, service=service, level=level, alert=alert),
                              after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


def list_warnings(state: str | None = None, service: str | None = None, limit: int = pages.DEFAULT_LIMIT, *,
                  actor: Actor, db: Database) -> list[dict[str, Any]]:
    """The newest ``limit`` warnings ``actor`` may see (the console's reader)."""
    return store.warning_page(db, actor, store.WarningFilter(state=state, service=service),
                              limit=min(max(limit, 1), pages.MAX_LIMIT)).items


def _warning(db: Database, actor: Actor, warning_id: str) -> WarningRow:
    with db.reader() as s:
        row = s.get(WarningRow, warning_id)
    if row is None or not _sees(db, actor, [row.service_id]):
        raise NotFound(f"未知预警 {warning_id}", f"unknown warning {warning_id}")
    return row


@router.get("/warnings/{warning_id}", response_model=WarningDetail, **CONTRACT)
def show_warning(warning_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    row = _warning(db, actor, warning_id)
    with db.reader() as s:
        log = store.notifications_of(s, warning_id)
    return {**store.view(row), "notifications": log}


class AckBody(Body):
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


class SilenceBody(Body):
    model_config = ConfigDict(extra="forbid")
    matchers: list[Any]
    reason: str
    duration: str | None = None
    until_resolved: bool = False
    starts_in: str | None = None


@router.get("/silences", response_model=list[SilenceView], **CONTRACT)
def silences(request: Request, response: Response, all: bool = False,  # noqa: A002 - the query parameter is ?all=
             after: str | None = pages.AFTER, limit: int = pages.LIMIT,
             actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of the silences ``actor`` may see, newest first (``all``: ended ones too)."""
    page = silence_service.silence_page(db, actor, include_ended=all, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


def list_silences(all: bool = False, *, actor: Actor, db: Database) -> list[dict[str, Any]]:  # noqa: A002
    """Every silence ``actor`` may see (the console's reader)."""
    return silence_service.list_silences(db, include_ended=all, actor=actor)


@router.post("/silences", response_model=SilenceView, **CONTRACT)
def create_silence(body: SilenceBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    if actor.role is Role.auditor:
        raise Forbidden("审计员只能查看", "an auditor reads but may not silence")
    if actor.role is Role.operator:
        from fenghuo.alerts.silence_match import parse_matchers

        named = [m["value"] for m in parse_matchers(body.matchers) if m["name"] == "service" and m["op"] == "="]
        if not named or not _sees(db, actor, named):
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
def notifications(request: Request, response: Response, status: str | None = None, channel: str | None = None,
                  kind: str | None = None, warning: str | None = None, after: str | None = pages.AFTER,
                  limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                  db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """The delivery log, newest first: what was sent, retried, failed, silenced or inhibited."""
    if actor.role not in (Role.admin, Role.system, Role.auditor):
        raise Forbidden("只有管理员和审计员可查看完整投递记录", "only admins and auditors read the whole delivery log")
    page = store.notification_page(db, store.NotificationFilter(status=status, channel=channel, kind=kind, warning=warning),
                                   after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


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
