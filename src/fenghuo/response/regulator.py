"""A regulator's order to suspend a service (监管暂停, row CN-EP-07): given through the switch
by the regulator itself, so the state records ``hold_by`` and only a regulator can lift it; the
order is written to the ledger with its reference and legal basis, and opens (or joins) an
incident whose source is the regulator."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from fenghuo.control import switch
from fenghuo.control.models import SwitchState
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response import incidents


def order_pause(db: Database, actor: Actor, service_id: str, reason: str, *, order_ref: str | None = None,
                basis: str = "CN-EP-07", grade: str = "III") -> dict[str, Any]:
    if actor.role is not Role.regulator:
        raise Forbidden("只有监管方可以下达监管暂停令", "only a regulator may order a suspension", code="not_regulator")
    if not (reason or "").strip():
        raise Invalid("监管暂停令必须写明理由", "a suspension order needs a reason", field="reason")
    incidents.check_grade(grade)  # before the pause: a bad grade must not leave a pause without its incident
    if order_ref and len(order_ref) > 58:  # "order-<ref>" is the command id (64), the ref an incident link's (80)
        raise Invalid("暂停令编号 order 最多 58 个字符", "the order reference must be at most 58 characters", field="order")
    order_ref = order_ref or f"order-{uuid.uuid4().hex[:10]}"
    with db.reader() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_can_command(s, actor, svc)
        state = s.get(SwitchState, service_id).state
    command = None
    if state not in ("paused", "stopped"):
        command = switch.execute(db, actor, service_id, "pause", f"监管暂停令 {order_ref} / regulator's suspension order {order_ref}: {reason}",
                                 command_id=f"order-{order_ref}"[:64])
    with db.transaction() as s:
        st = s.execute(select(SwitchState).where(SwitchState.service_id == service_id).with_for_update()).scalar_one()
        if st.hold_by is None:  # already paused by its provider: the order still binds the lifting
            st.hold_by = actor.label
            ledger.append(s, db.clock, "switch.hold", service_id, actor.label,
                          {"service": service_id, "state": st.state, "hold_by": actor.label, "order": order_ref})
        svc = s.get(Service, service_id)
        inc, _ = incidents.open_in(s, db.clock, svc, grade, actor.label, "regulator", {"order": order_ref, "basis": basis, "by": actor.label},
                                   f"监管暂停令 {order_ref} / suspension order {order_ref}: {reason}", link_kind="order", link_ref=order_ref)
        if command:
            incidents.link(s, inc.id, "command", command["command"], iso(db.clock.now()), "regulator pause")
        ledger.append(s, db.clock, "response.regulator_order", service_id, actor.label, {
            "order": order_ref, "service": service_id, "reason": reason, "basis": basis, "state_before": state,
            "command": command["command"] if command else None, "incident": inc.id, "hold_by": st.hold_by})
        return {"order": order_ref, "service": service_id, "state": st.state, "hold_by": st.hold_by, "incident": inc.id,
                "command": command["command"] if command else None}
