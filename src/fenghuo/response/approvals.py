"""Approving a plan step that waits for people: distinct people of the role the plan names, in
scope for the service (an operator of its provider, a regulator over its jurisdiction). When
enough have approved, the step's switch command is given — by ``system:plan-executor``, with the
approvers named in the reason and the ledger — exactly once (its command id is fixed).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response import incidents
from fenghuo.response.executor import SYSTEM, run_switch
from fenghuo.response.models import PlanActionApproval, PlanActionRow


def view(s, r: PlanActionRow) -> dict[str, Any]:
    given = s.execute(select(PlanActionApproval).where(PlanActionApproval.action_id == r.id).order_by(PlanActionApproval.id)).scalars().all()
    return {"action": r.id, "service": r.service_id, "plan": f"{r.plan_id}@{r.plan_version}", "step": f"{r.trigger_id}/{r.action_id}",
            "do": r.kind, "status": r.status, "warning": r.warning_id, "owner": r.owner, "command": r.command_id,
            "incident": r.incident_id, "detail": r.detail, "since": r.created_at, "done_at": r.done_at,
            "approvals": {"role": r.approval_role, "needed": r.approvals_needed,
                          "given": [{"by": a.approver, "at": a.at} for a in given]},
            "who_can_approve": (f"{r.approvals_needed - len(given)} more distinct {r.approval_role}(s) in scope of {r.service_id} / "
                                f"还需 {r.approvals_needed - len(given)} 名不同的 {r.approval_role}") if r.status == "awaiting_approval" else None}


def approve(db: Database, actor: Actor, action_id: str) -> dict[str, Any]:
    with db.transaction() as s:
        r = s.get(PlanActionRow, action_id)
        if r is None:
            raise NotFound(f"未知预案动作 {action_id}", f"unknown plan action {action_id}")
        svc = s.get(Service, r.service_id)
        scope.require_can_command(s, actor, svc)
        if r.status != "awaiting_approval":
            raise Conflict(f"动作 {action_id} 已是 {r.status}，无需审批", f"action {action_id} is {r.status}; nothing to approve", code="not_awaiting")
        if actor.role.value != r.approval_role:
            raise Forbidden(f"该动作需要 {r.approval_role} 审批，{actor.label} 是 {actor.role.value}",
                            f"this action needs approval by a {r.approval_role}; {actor.label} is a {actor.role.value}", code="wrong_role")
        given = list(s.execute(select(PlanActionApproval.approver).where(PlanActionApproval.action_id == action_id)).scalars())
        if actor.label in given:
            raise Conflict(f"{actor.label} 已审批过该动作；需要另一位 {r.approval_role}",
                           f"{actor.label} already approved this action; a different {r.approval_role} must approve", code="duplicate_approval")
        now = iso(db.clock.now())
        s.add(PlanActionApproval(action_id=action_id, approver=actor.label, role=actor.role.value, at=now))
        s.flush()
        ledger.append(s, db.clock, "response.approved", r.service_id, actor.label, {
            "action": action_id, "approvals": len(given) + 1, "needed": r.approvals_needed, "incident": r.incident_id})
        if r.incident_id:
            incidents.link(s, r.incident_id, "approval", f"{action_id}:{actor.label}"[:80], now, f"{actor.label} approved {r.kind}")
        ready = len(given) + 1 >= r.approvals_needed
        approvers = given + [actor.label]
        reason = (f"预案动作 {r.trigger_id}/{r.action_id}（{r.kind}）经 {', '.join(approvers)} 审批 / plan step "
                  f"{r.trigger_id}/{r.action_id} ({r.kind}) approved by {', '.join(approvers)} [plan {r.plan_id}@{r.plan_version}, warning {r.warning_id}]")
        if not ready:
            return view(s, r)
    # the command runs in its own transaction (the switch's); its id makes a retry harmless
    status, detail = run_switch(db, SYSTEM, r.service_id, r.kind, reason, r.command_id, r.params.get("rate"))
    with db.transaction() as s:
        r = s.get(PlanActionRow, action_id)
        if r.status == "awaiting_approval":
            r.status, r.detail, r.done_at = status, detail, iso(db.clock.now())
            ledger.append(s, db.clock, "response.action", r.service_id, SYSTEM.label, {
                "action": r.id, "plan": f"{r.plan_id}@{r.plan_version}", "step": f"{r.trigger_id}/{r.action_id}", "do": r.kind,
                "warning": r.warning_id, "status": status, "command": r.command_id, "detail": detail, "approved_by": approvers,
                "incident": r.incident_id})
            if r.incident_id:
                incidents.link(s, r.incident_id, "command", r.command_id, r.done_at, f"{r.kind} ({status})")
        return view(s, r)


def pending(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Plan steps waiting for approval that this actor can see: who can give it, since when."""
    with db.reader() as s:
        rows = s.execute(select(PlanActionRow).join(Service, Service.id == PlanActionRow.service_id)
                         .where(PlanActionRow.status == "awaiting_approval", scope.visible_filter(s, actor))
                         .order_by(PlanActionRow.created_at)).scalars().all()
        return [view(s, r) for r in rows]


def actions(db: Database, actor: Actor, service: str | None = None, warning: str | None = None) -> list[dict[str, Any]]:
    with db.reader() as s:
        q = select(PlanActionRow).join(Service, Service.id == PlanActionRow.service_id).where(scope.visible_filter(s, actor))
        if service:
            q = q.where(PlanActionRow.service_id == service)
        if warning:
            q = q.where(PlanActionRow.warning_id == warning)
        return [view(s, r) for r in s.execute(q.order_by(PlanActionRow.created_at, PlanActionRow.id)).scalars()]


__all__ = ["approve", "pending", "actions", "Role"]
