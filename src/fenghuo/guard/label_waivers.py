"""Label waivers (CN-LB-18, LBL Art.9): generated content supplied *without* the explicit label.

The labelling measures allow it only at a user's request, after the user agreement has told the
user of their own labelling duty, and the provider must keep a log of it — who asked, under which
agreement, who received it — for at least six months. A waiver is that log entry: it is refused
unless it names the user's request, the agreement (a reference to the user agreement / terms
clause the user accepted) and the recipient, and it is kept in ``label_waivers`` (never pruned:
``fenghuo retention status`` lists it) with a ``label.waiver.recorded`` ledger entry.

The guard supplies unlabelled content only under a recorded waiver: ``fenghuo gateway --no-label``
needs ``--label-waiver ID`` naming a waiver of the same service (checked at start, see
:func:`check_for_guard`), and its call events say which waiver they were served under. The
implicit metadata (``AIGC``) is written either way.

``fenghuo label waive | waivers`` and ``/api/v1/services/{id}/label-waivers``,
``/api/v1/label-waivers`` (a page at a time, keyset on the id like ``control.listing``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.guard.ids import uuid7
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Base, Database
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# What a waiver must name (CN-LB-18), with the words its error uses.
REQUIRED = {"user": ("提出请求的用户", "the user who asked"),
            "request": ("用户的请求（内容或编号）", "the user's request (its text or reference)"),
            "agreement": ("用户协议中说明标识义务的条款", "the user agreement clause stating the user's labelling duty"),
            "recipient": ("接收方", "the recipient of the unlabelled content")}
LIMITS = {"user": 256, "request": 4000, "agreement": 1000, "recipient": 512, "note": 4000}


class LabelWaiver(Base):
    __tablename__ = "label_waivers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # uuid7: time-ordered, the listing's cursor
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(256))
    request: Mapped[str] = mapped_column(Text)
    agreement: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(512))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(256))
    recorded_at: Mapped[str] = mapped_column(String(32), index=True)


def view(w: LabelWaiver) -> dict[str, Any]:
    return {"id": w.id, "service": w.service_id, "user": w.user_id, "request": w.request, "agreement": w.agreement,
            "recipient": w.recipient, "note": w.note, "recorded_by": w.recorded_by, "recorded_at": w.recorded_at}


def _service(s, actor: Actor, service_id: str, command: bool) -> Service:
    svc = s.get(Service, service_id)
    if svc is None:
        raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
    (scope.require_can_command if command else scope.require_visible)(s, actor, svc)
    return svc


def validate(fields: dict[str, Any]) -> dict[str, str]:
    """The waiver's fields, stripped; Invalid naming the first one missing or too long."""
    out = {}
    for name in (*REQUIRED, "note"):
        value = fields.get(name)
        value = value.strip() if isinstance(value, str) else ""
        if name in REQUIRED and not value:
            zh, en = REQUIRED[name]
            raise Invalid(f"不加显式标识须记录{zh}（{name}）（CN-LB-18）", f"content without the explicit label needs {en} "
                          f"({name}) on record (CN-LB-18)", field=name, code="waiver_incomplete")
        if "\x00" in value:  # PostgreSQL text holds no NUL: refused here, not a 500 there
            raise Invalid(f"{name} 含空字符（NUL）", f"{name} contains a NUL character", field=name)
        if len(value) > LIMITS[name]:
            raise Invalid(f"{name} 过长（最多 {LIMITS[name]} 字）", f"{name} is too long (at most {LIMITS[name]} characters)", field=name)
        out[name] = value
    return out


def record(db: Database, actor: Actor, service_id: str, **fields: Any) -> dict[str, Any]:
    """Record a waiver; refused (422, naming the field) without user, request, agreement, recipient."""
    f = validate(fields)
    with db.transaction() as s:
        _service(s, actor, service_id, command=True)
        w = LabelWaiver(id=uuid7(), service_id=service_id, user_id=f["user"], request=f["request"], agreement=f["agreement"],
                        recipient=f["recipient"], note=f["note"], recorded_by=actor.label, recorded_at=iso(db.clock.now()))
        s.add(w)
        s.flush()
        ledger.append(s, db.clock, "label.waiver.recorded", service_id, actor.label,
                      {"waiver": w.id, "service": service_id, "user": w.user_id, "request": w.request, "agreement": w.agreement,
                       "recipient": w.recipient})
        return view(w)


def get(db: Database, actor: Actor, waiver_id: str) -> dict[str, Any]:
    with db.reader() as s:
        w = s.get(LabelWaiver, waiver_id)
        if w is None:
            raise NotFound(f"未知的免标识记录 {waiver_id}", f"unknown label waiver {waiver_id}", code="unknown_waiver")
        _service(s, actor, w.service_id, command=False)
        return view(w)


def page(db: Database, actor: Actor, service_id: str | None = None, *, after: str | None = None,
         limit: int = DEFAULT_LIMIT) -> tuple[list[dict[str, Any]], str | None]:
    """(waivers, next cursor) in the order recorded: the ones ``actor`` may see, of one service or all."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit 应在 1 到 {MAX_LIMIT} 之间", f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    with db.reader() as s:
        q = select(LabelWaiver).join(Service, Service.id == LabelWaiver.service_id).order_by(LabelWaiver.id)
        if service_id is not None:
            _service(s, actor, service_id, command=False)
            q = q.where(LabelWaiver.service_id == service_id)
        else:
            q = q.where(scope.visible_filter(s, actor))
        if after:
            q = q.where(LabelWaiver.id > after)
        rows = s.execute(q.limit(limit + 1)).scalars().all()
        more = len(rows) > limit
        items = [view(w) for w in rows[:limit]]
    return items, (items[-1]["id"] if more else None)


def check_for_guard(service: str, waiver_id: str | None, *, control: str | None = None, token: str | None = None,
                    db: Database | None = None) -> dict[str, Any]:
    """The waiver a guard that leaves out the explicit label serves under (CN-LB-18): it must be
    recorded, for this service. ValueError (bilingual) otherwise — the guard does not start."""
    if not waiver_id:
        raise ValueError("不加显式标识（--no-label）须给出已登记的免标识记录 --label-waiver ID（fenghuo label waive，CN-LB-18）/ "
                         "--no-label needs --label-waiver ID, a recorded label waiver (fenghuo label waive; CN-LB-18)")
    try:
        if control:
            import httpx

            r = httpx.get(f"{control.rstrip('/')}/api/v1/label-waivers/{waiver_id}", headers={"Authorization": f"Bearer {token}"},
                          timeout=5)
            if r.status_code != 200:
                raise NotFound(r.text[:300], r.text[:300])
            w = r.json()
        elif db is not None:
            from fenghuo.platform.roles import local_actor

            w = get(db, local_actor(), waiver_id)
        else:
            raise NotFound("无处查询", "nowhere to look it up")
    except Exception as exc:  # noqa: BLE001 - unknown, refused, unreachable: the guard must not start unlabelled
        raise ValueError(f"免标识记录 {waiver_id} 无法确认 / label waiver {waiver_id} cannot be confirmed: {exc}") from None
    if w.get("service") != service:
        raise ValueError(f"免标识记录 {waiver_id} 属于服务 {w.get('service')}，不是 {service} / label waiver {waiver_id} is "
                         f"for service {w.get('service')}, not {service}")
    return w
