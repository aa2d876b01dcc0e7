"""The plan executor: follows firing warnings and carries out each plan step once.

Switch steps go through ``control.switch.execute`` — the same command a person gives, so the
same table, roles and ledger apply — as actor ``system:plan-executor`` with the plan, trigger,
action and warning named in the reason. Steps that need approval wait as rows until distinct
people of the required role approve (``approvals.py``).

Idempotence, the reason this file is shaped as it is: every step for a warning has a row whose
id is derived from (warning, plan, trigger, action), and every switch command it gives has an id
derived from that row's id. A restarted executor re-reads the firing warnings from the database,
finds the rows it wrote and skips them; a step whose command went through but whose row was not
yet written is given again with the same command id, which the switch answers as ``replayed``
without changing anything. So nothing is repeated and nothing is skipped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from fenghuo.alerts.levels import Level
from fenghuo.control import switch
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso, iso_seconds
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, FenghuoError
from fenghuo.platform.leadership import SOLE, Leadership
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.models import Service
from fenghuo.response import complaints, duties, incident_grades, incidents, notices
from fenghuo.response import report_clocks as clocks
from fenghuo.response.library import PlanLibrary
from fenghuo.response.models import PlanActionRow
from fenghuo.response.plans import Plan
from fenghuo.response.simulate import Step, WarningView, due

log = logging.getLogger(__name__)
SYSTEM = Actor("plan-executor", Role.system)


def action_id(warning_id: str, plan_id: str, step_key: str) -> str:
    return "act-" + hashlib.sha256(f"{warning_id}\x00{plan_id}\x00{step_key}".encode()).hexdigest()[:24]


def command_reason(plan: Plan, step: Step, w: WarningView, approvers: list[str] | None = None) -> str:
    a = step.action
    zh = a.reason_zh or f"{w.level.value} 预警按预案执行 {a.do}"
    en = a.reason_en or f"{w.level.value} warning: {a.do} per plan"
    by = f"; approved by {', '.join(approvers)}" if approvers else ""
    return f"{zh} / {en} [plan {plan.ref} step {step.key}, warning {w.id}{by}]"


class Executor:
    def __init__(self, db: Database, library: PlanLibrary | None = None, leadership: Leadership = SOLE,
                 also: Sequence[Callable[[Database], list[dict[str, Any]]]] = ()) -> None:
        self.db = db
        # Work of packages above response that shares this loop (recovery's canary ramp): given
        # here by whoever assembles the executor, so response imports nothing above it.
        self.also = tuple(also)
        self.library = library or PlanLibrary.load()
        # Several replicas: only the leader ticks, and each step's transaction checks the lease
        # (fenghuo.scale.replica supplies the lease-backed leadership).
        self.leadership = leadership
        self.fence = leadership.fence

    # -- choosing ---------------------------------------------------------------------------
    def plan_for(self, service_id: str) -> tuple[Plan, str] | None:
        with self.db.reader() as s:
            svc = s.get(Service, service_id)
            if svc is None:
                return None
            return self.library.choose(svc.id, svc.attributes.get("sector"), svc.grade)

    # -- the loop ---------------------------------------------------------------------------
    def firing(self) -> list[WarningView]:
        from fenghuo.alerts.store import open_warnings

        return [WarningView.from_dict(w) for w in open_warnings(self.db) if w["state"] == "firing"]

    def tick(self) -> list[dict[str, Any]]:
        """One pass: plan steps now due, approvals whose warning ended, clocks, then the extra
        per-tick work given at construction (the canary ramp, ``recovery.ramp.tick``)."""
        done: list[dict[str, Any]] = []
        firing = self.firing()
        for w in firing:
            done += self.handle(w)
        self.cancel_stale({w.id for w in firing})
        done += [{"clock_breached": b} for b in clocks.check_breaches(self.db)]
        done += [{"duty_breached": b} for b in duties.check_overdue(self.db)]
        done += [{"complaint_overdue": b} for b in complaints.check_overdue(self.db)]
        for extra in self.also:
            done += [r for r in extra(self.db) if r]
        return done

    def handle(self, w: WarningView) -> list[dict[str, Any]]:
        """Carry out every step of the governing plan that is due for this warning."""
        if w.labels.get("source") == clocks.SOURCE or w.state != "firing":
            return []  # a reporting deadline never pauses a service by itself
        chosen = self.plan_for(w.service)
        if chosen is None:
            return []
        plan, _why = chosen
        steps = due(plan, w, self.db.clock.now().timestamp())
        if not steps:
            return []
        ids = {action_id(w.id, plan.id, s.key): s for s in steps}
        with self.db.reader() as s:
            have = set(s.execute(select(PlanActionRow.id).where(PlanActionRow.id.in_(list(ids)))).scalars())
        out = []
        for aid, step in ids.items():
            if aid in have:
                continue
            try:
                out.append(self.perform(aid, plan, step, w))
            except FenghuoError:
                log.exception("plan step %s for warning %s failed", step.key, w.id)
        return out

    # -- one step -----------------------------------------------------------------------------
    def _row(self, aid: str, plan: Plan, step: Step, w: WarningView, status: str, **kw: Any) -> PlanActionRow:
        now = iso(self.db.clock.now())
        a = step.action
        return PlanActionRow(id=aid, warning_id=w.id, service_id=w.service, plan_id=plan.id, plan_version=plan.version,
                             trigger_id=step.trigger.id, action_id=a.id, kind=a.do, owner=a.owner, status=status,
                             params={"rate": a.rate, "channels": list(a.channels), "grade": a.grade, "level": w.level.value},
                             due_at=iso_seconds(step.due_at), created_at=now, done_at=now if status != "awaiting_approval" else None, **kw)

    def perform(self, aid: str, plan: Plan, step: Step, w: WarningView) -> dict[str, Any]:
        a = step.action
        if a.switch_action is not None and a.approval is not None:
            return self._await_approval(aid, plan, step, w)
        command_id = status = detail = None
        if a.switch_action is not None:
            command_id = "plan-" + aid[4:]
            status, detail = run_switch(self.db, SYSTEM, w.service, a.switch_action.value, command_reason(plan, step, w), command_id, a.rate,
                                        fence=self.fence)
        with self.db.transaction() as s:
            self.fence(s)
            if s.get(PlanActionRow, aid) is not None:  # another executor got here first
                return {"action": aid, "status": "already_done"}
            row = self._row(aid, plan, step, w, status or "done", command_id=command_id, detail=detail or "")
            s.add(row)
            s.flush()
            inc = None
            if a.do == "open_incident":
                grade = a.grade or incident_grades.FROM_LEVEL[w.level]
                inc, _ = incidents.open_in(
                    s, self.db.clock, s.get(Service, w.service), grade, SYSTEM.label, "plan",
                    {"warning": w.id, "alert": w.alert, "level": w.level.value, "rule": w.rule, "plan": plan.ref,
                     "step": step.key, "grade_rule": "plan" if a.grade else "CN-EP-01 level→grade"},
                    f"{w.alert} {w.level.value} on {w.service}", detected_at=iso_seconds(w.fired_at or w.started_at),
                    link_kind="warning", link_ref=w.id)
                row.incident_id = inc.id
                earlier = s.execute(select(PlanActionRow).where(PlanActionRow.warning_id == w.id, PlanActionRow.command_id.is_not(None))).scalars()
                for r in earlier:
                    incidents.link(s, inc.id, "command", r.command_id, r.done_at or r.created_at, f"{r.kind} ({r.status})")
            else:
                inc = incidents.open_for(s, w.service)
                if inc is not None:
                    incidents.link(s, inc.id, "warning", w.id, row.created_at, f"{w.alert} {w.level.value}")
                    if command_id:
                        incidents.link(s, inc.id, "command", command_id, row.created_at, f"{a.do} ({row.status})")
                    row.incident_id = inc.id
            sent = []
            if a.do in ("notify", "escalate"):
                sent = notices.queue(s, iso(self.db.clock.now()), aid, plan.ref, step.key, a.do, w, list(a.channels), a.owner)
            ledger.append(s, self.db.clock, "response.action", w.service, SYSTEM.label, {
                "action": aid, "plan": plan.ref, "step": step.key, "do": a.do, "warning": w.id, "level": w.level.value,
                "status": row.status, "command": command_id, "detail": row.detail, "owner": a.owner,
                "channels": list(a.channels), "notifications": sent, "incident": row.incident_id})
            return {"action": aid, "step": step.key, "do": a.do, "status": row.status, "command": command_id, "incident": row.incident_id}

    def _await_approval(self, aid: str, plan: Plan, step: Step, w: WarningView) -> dict[str, Any]:
        a = step.action
        with self.db.transaction() as s:
            self.fence(s)
            if s.get(PlanActionRow, aid) is not None:
                return {"action": aid, "status": "already_done"}
            row = self._row(aid, plan, step, w, "awaiting_approval", approvals_needed=a.approval.count,
                            approval_role=a.approval.role.value, command_id="plan-" + aid[4:])
            s.add(row)
            s.flush()
            inc = incidents.open_for(s, w.service)
            if inc is not None:
                row.incident_id = inc.id
                incidents.link(s, inc.id, "action", aid, row.created_at, f"{a.do} awaiting {a.approval.count} {a.approval.role.value}")
            ledger.append(s, self.db.clock, "response.approval_requested", w.service, SYSTEM.label, {
                "action": aid, "plan": plan.ref, "step": step.key, "do": a.do, "warning": w.id, "role": a.approval.role.value,
                "needed": a.approval.count, "owner": a.owner, "incident": row.incident_id})
            return {"action": aid, "step": step.key, "do": a.do, "status": "awaiting_approval",
                    "needs": f"{a.approval.count} {a.approval.role.value}"}

    def cancel_stale(self, firing_ids: set[str]) -> None:
        """An approval nobody gave before its warning ended is cancelled, with its reason."""
        with self.db.transaction() as s:
            self.fence(s)
            rows = s.execute(select(PlanActionRow).where(PlanActionRow.status == "awaiting_approval")).scalars().all()
            for r in rows:
                if r.warning_id not in firing_ids:
                    r.status, r.done_at = "cancelled", iso(self.db.clock.now())
                    r.detail = "预警已解除，未获审批的动作取消 / warning ended before approval; cancelled"
                    ledger.append(s, self.db.clock, "response.action", r.service_id, SYSTEM.label, {
                        "action": r.id, "plan": f"{r.plan_id}@{r.plan_version}", "step": f"{r.trigger_id}/{r.action_id}", "do": r.kind,
                        "warning": r.warning_id, "status": "cancelled", "detail": r.detail, "incident": r.incident_id})


def run_switch(db: Database, actor: Actor, service: str, action: str, reason: str, command_id: str,
               rate: int | None, fence: Callable[[Any], None] | None = None) -> tuple[str, str]:
    """Give one switch command; (status, detail). An illegal transition (already paused, say)
    is recorded as not applicable, not as a failure: the service is already where the plan
    wants it or further."""
    try:
        v = switch.execute(db, actor, service, action, reason, command_id=command_id, rate=rate, fence=fence)
        return "done", f"{v['from']} → {v['to']} v{v['version']}" + (" (replayed)" if v.get("replayed") else "")
    except Conflict as exc:
        if exc.code == "illegal_transition":
            return "not_applicable", exc.message
        return "failed", exc.message


__all__ = ["Executor", "SYSTEM", "action_id", "Level"]
