"""The switch: apply commands to a service's state, with roles, approvals, idempotence and the
ledger entry in the same transaction as the change.

Concurrency: the service's state row is locked (``SELECT … FOR UPDATE`` on PostgreSQL, the
write lock of ``BEGIN IMMEDIATE`` on SQLite) before anything is read, so two commands racing
on one service run one after the other and each sees the version it changed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from fenghuo.control import propagation, row_scope
from fenghuo.control.gates import recovery_gate
from fenghuo.control.models import Approval, Command, SwitchState
from fenghuo.control.transitions import TABLE, Action, State, Transition, allowed_from, lookup
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.validation import rate_problem
from fenghuo.registry import scope
from fenghuo.registry.models import Service

_BILINGUAL = re.compile(r"\s*/\s+")


def state_view(st: SwitchState) -> dict[str, Any]:
    return {
        "service": st.service_id,
        "state": st.state,
        "version": st.version,
        "rate": st.rate,
        "percent": st.percent,
        "reason": st.reason,
        "changed_by": st.changed_by,
        "changed_at": st.changed_at,
        "command": st.command_id,
        "hold_by": st.hold_by,
        "incident": st.incident_id,
    }


def note_incident(session: Session, command_id: str, incident_id: str) -> None:
    """The command ``command_id`` was linked to an incident (``response.incidents.link``): if the
    service's current state was set by that command, the state names the incident from now on,
    and the view is published again once the transaction commits.

    The version does not change — the state is the same, only its refusal can now say which
    incident it belongs to — so followers take a same-version view that adds an incident."""
    st = session.execute(select(SwitchState).where(SwitchState.command_id == command_id).with_for_update()).scalar_one_or_none()
    if st is None or st.incident_id == incident_id:
        return
    st.incident_id = incident_id
    session.flush()
    view = state_view(st)
    event.listen(session, "after_commit", lambda _s: propagation.publish(view), once=True)


def initialise(session: Session, clock: Clock, service_id: str, state: str, actor: Actor, reason: str) -> SwitchState:
    """Give a newly registered service its first state (version 1), with its ledger entry."""
    st = SwitchState(service_id=service_id, state=State(state).value, version=1, reason=reason,
                     changed_by=actor.label, changed_at=iso(clock.now()))
    session.add(st)
    ledger.append(session, clock, "switch.changed", service_id, actor.label,
                  {"action": "register", "from": None, "to": st.state, "version": 1, "reason": reason, "command": None})
    return st


def _load(session: Session, service_id: str) -> tuple[Service, SwitchState]:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
    st = session.execute(select(SwitchState).where(SwitchState.service_id == service_id).with_for_update()).scalar_one()
    return service, st


def _check_params(t: Transition, service: Service, rate: int | None, percent: int | None) -> dict[str, Any]:
    if t.needs_rate:
        if rate is None:
            raise Invalid("限流需要正整数速率 rate（次/秒）", "throttle needs a positive integer rate (requests/second)", field="rate")
        if (why := rate_problem(rate)) is not None:
            raise Invalid(*why, field="rate")
    elif rate is not None:
        raise Invalid(f"{t.action.value} 不接受 rate 参数", f"{t.action.value} takes no rate", field="rate")
    if t.needs_percent:
        if percent is None or not 1 <= percent <= 100:
            raise Invalid("灰度需要 1–100 的百分比 percent", "canary needs a percent between 1 and 100", field="percent")
    elif percent is not None:
        raise Invalid(f"{t.action.value} 不接受 percent 参数", f"{t.action.value} takes no percent", field="percent")
    if t.needs_backup and not service.attributes.get("backup_model"):
        raise Conflict(f"服务 {service.id} 未登记备份模型，无法降级", f"service {service.id} has no backup model to degrade to",
                       code="no_backup")
    return {"rate": rate, "percent": percent}


def _authorise(session: Session, actor: Actor, service: Service, st: SwitchState, t: Transition) -> None:
    scope.require_can_command(session, actor, service)
    if actor.role not in t.roles:
        raise Forbidden(f"角色 {actor.role.value} 不能执行 {t.action.value}（允许：{', '.join(sorted(r.value for r in t.roles))}）",
                        f"role {actor.role.value} may not {t.action.value} (allowed: {', '.join(sorted(r.value for r in t.roles))})")
    lifting = State(st.state) in (State.paused, State.stopped) and t.target not in (State.paused, State.stopped)
    if lifting and st.hold_by and actor.role is not Role.regulator:
        raise Forbidden(f"该服务处于监管暂停（{st.hold_by}），只有监管方可以解除",
                        f"this service is under a regulator's pause ({st.hold_by}); only a regulator may lift it", code="regulator_hold")


def _gate(session: Session, service: Service, st: SwitchState, t: Transition) -> dict:
    if not t.needs_recovery:
        return {}
    result = recovery_gate().check(session, service.id, State(st.state), t.action)
    if not result.ok:
        halves = [_BILINGUAL.split(m, maxsplit=1) for m in result.missing]  # "中文 / English"
        raise Conflict(
            f"服务 {service.id} 尚不能{'恢复' if t.action is Action.resume else '灰度恢复'}：" + "；".join(h[0] for h in halves),
            f"service {service.id} may not {t.action.value} yet: " + "; ".join(h[-1] for h in halves),
            code="recovery_required", missing=result.missing, current_state=st.state,
        )
    return result.evidence


def _apply(session: Session, clock: Clock, st: SwitchState, cmd: Command, t: Transition, actor: Actor, evidence: dict) -> None:
    now = iso(clock.now())
    from_state = st.state
    st.state = t.target.value
    st.version += 1
    st.rate = cmd.params.get("rate") if t.target is State.throttled else None
    st.percent = cmd.params.get("percent") if t.target is State.canary else None
    st.reason, st.changed_by, st.changed_at, st.command_id = cmd.reason, actor.label, now, cmd.id
    st.incident_id = None  # a new command's state belongs to an incident only once linked to it (note_incident)
    if t.target in (State.paused, State.stopped) and actor.role is Role.regulator:
        st.hold_by = st.hold_by or actor.label
    elif t.target not in (State.paused, State.stopped):
        st.hold_by = None
    cmd.status, cmd.version, cmd.applied_at, cmd.from_state = "applied", st.version, now, from_state
    ledger.append(session, clock, "switch.changed", st.service_id, actor.label, {
        "action": cmd.action, "from": from_state, "to": st.state, "version": st.version, "reason": cmd.reason,
        "command": cmd.id, "rate": st.rate, "percent": st.percent, "requested_by": cmd.actor,
        "hold_by": st.hold_by, "recovery_evidence": evidence or None,
    })


def command_view(session: Session, cmd: Command, replayed: bool = False) -> dict[str, Any]:
    approvers = [] if not cmd.approvals_needed else session.execute(
        select(Approval.approver).where(Approval.command_id == cmd.id).order_by(Approval.id)).scalars().all()
    return {
        "command": cmd.id, "service": cmd.service_id, "action": cmd.action, "status": cmd.status,
        "from": cmd.from_state, "to": cmd.to_state, "version": cmd.version, "reason": cmd.reason,
        "requested_by": cmd.actor, "params": cmd.params, "created_at": cmd.created_at, "applied_at": cmd.applied_at,
        "approvals": {"needed": cmd.approvals_needed, "given": list(approvers)}, "replayed": replayed,
    }


def execute(db: Database, actor: Actor, service_id: str, action: str | Action, reason: str, *,
            command_id: str | None = None, rate: int | None = None, percent: int | None = None,
            fence: Callable[[Session], None] | None = None) -> dict[str, Any]:
    """Apply one command; returns its view. Sending the same command id again changes nothing
    and returns the first result (``replayed: true``). ``fence`` runs first inside the command's
    own transaction and may raise to refuse it: a plan step given by a control-plane replica
    checks there that it still holds the leader lease (``fenghuo.scale.lease.require``)."""
    try:
        action = Action(action)
    except ValueError:
        raise Invalid(f"未知指令 {action}（可用：{', '.join(a.value for a in Action)}）",
                      f"unknown action {action} (known: {', '.join(a.value for a in Action)})", field="action") from None
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("每条指令都必须写明理由 reason", "every command needs a non-empty reason", field="reason")
    command_id = command_id or str(uuid.uuid4())
    if not 1 <= len(command_id) <= 64:
        raise Invalid("指令 id 长度应为 1–64", "command id must be 1–64 characters", field="id")
    change = None
    with db.transaction() as s:
        if fence is not None:
            fence(s)
        service, st = _load(s, service_id)
        existing = s.get(Command, command_id)
        if existing is not None:
            same = (existing.service_id, existing.action, existing.reason, existing.params) == (service_id, action.value, reason, {"rate": rate, "percent": percent})
            if not same:
                raise Conflict(f"指令 id {command_id} 已用于另一条指令", f"command id {command_id} was already used for a different command", code="id_reused")
            scope.require_visible(s, actor, service)
            return command_view(s, existing, replayed=True)
        t = lookup(State(st.state), action)
        if t is None:
            allowed = [a.value for a in allowed_from(State(st.state))]
            raise Conflict(
                f"服务 {service_id} 当前为 {st.state}，不能 {action.value}；可执行：{', '.join(allowed)}",
                f"service {service_id} is {st.state}; cannot {action.value} from there; allowed: {', '.join(allowed)}",
                code="illegal_transition", current_state=st.state, allowed=allowed,
            )
        _authorise(s, actor, service, st, t)
        params = _check_params(t, service, rate, percent)
        evidence = _gate(s, service, st, t)
        needed = int(service.grade_defaults.get("resume_approvals", 1)) if t.grade_approvals else 0
        now = iso(db.clock.now())
        cmd = Command(id=command_id, service_id=service_id, action=action.value, params=params, reason=reason,
                      actor=actor.label, status="awaiting_approval", from_state=st.state, to_state=t.target.value,
                      approvals_needed=needed, created_at=now)
        s.add(cmd)
        if needed:
            s.flush()  # the approval row refers to the command
            s.add(Approval(command_id=command_id, approver=actor.label, role=actor.role.value, at=now))
        if needed > 1:
            ledger.append(s, db.clock, "command.requested", service_id, actor.label, {
                "command": command_id, "action": action.value, "reason": reason, "approvals_needed": needed,
                "params": params, "from": st.state, "to": t.target.value})
        else:
            _apply(s, db.clock, st, cmd, t, actor, evidence)
            change = state_view(st)
        view = command_view(s, cmd)
    if change:
        propagation.publish(change)
    return view


def approve(db: Database, actor: Actor, command_id: str) -> dict[str, Any]:
    """Add one distinct person's approval; the command is applied when enough have approved."""
    change = None
    with db.transaction() as s:
        cmd = s.get(Command, command_id)
        if cmd is None:
            raise NotFound(f"未知指令 {command_id}", f"unknown command {command_id}")
        service, st = _load(s, cmd.service_id)
        if cmd.status != "awaiting_approval":
            raise Conflict(f"指令 {command_id} 已是 {cmd.status}，无需审批", f"command {command_id} is {cmd.status}; nothing to approve", code="not_awaiting")
        t = TABLE[Action(cmd.action)]
        _authorise(s, actor, service, st, t)
        given = s.execute(select(Approval.approver).where(Approval.command_id == command_id)).scalars().all()
        if actor.label in given:
            raise Conflict(f"{actor.label} 已审批过该指令；需要不同的人", f"{actor.label} already approved this command; a different person must approve",
                           code="duplicate_approval")
        now = iso(db.clock.now())
        s.add(Approval(command_id=command_id, approver=actor.label, role=actor.role.value, at=now))
        s.flush()
        ledger.append(s, db.clock, "command.approved", cmd.service_id, actor.label,
                      {"command": command_id, "approvals": len(given) + 1, "needed": cmd.approvals_needed})
        if len(given) + 1 >= cmd.approvals_needed:
            if lookup(State(st.state), t.action) is None:
                raise Conflict(f"服务现为 {st.state}，该指令已不能执行", f"service is now {st.state}; the command can no longer apply",
                               code="illegal_transition", current_state=st.state, allowed=[a.value for a in allowed_from(State(st.state))])
            evidence = _gate(s, service, st, t)
            _apply(s, db.clock, st, cmd, t, actor, evidence)
            change = state_view(st)
        view = command_view(s, cmd)
    if change:
        propagation.publish(change)
    return view


def get_state(db: Database, actor: Actor, service_id: str) -> dict[str, Any]:
    with db.reader() as s:
        service = s.get(Service, service_id)
        if service is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_visible(s, actor, service)
        st = s.get(SwitchState, service_id)
        view = state_view(st)
        view["allowed"] = [a.value for a in allowed_from(State(st.state))]
        return view


def all_states(db: Database, actor: Actor, *, state: str | None = None, after: str | None = None,
               limit: int | None = None) -> list[dict[str, Any]]:
    """Visible states in service order; ``after``/``limit`` page them (keyset on the service id,
    issue 19), ``state`` filters in the database."""
    with db.reader() as s:
        # the page's ids first, from the services index alone (a regulator's scope is ranges on
        # services (jurisdiction_id, id), migration 0020), then only those states are read
        q = select(Service.id).where(row_scope.services_visible(s, actor)).order_by(Service.id)
        if state or limit is None:  # joined only to filter on the state (or to read them all)
            q = q.join(SwitchState, SwitchState.service_id == Service.id)
        if state:
            q = q.where(SwitchState.state == state)
        if after:
            q = q.where(Service.id > after)
        if limit is None:  # every state at once (the demo): one query, no list of ids
            return [state_view(r) for r in s.execute(q.with_only_columns(SwitchState)).scalars()]
        ids = list(s.execute(q.limit(limit)).scalars())
        rows = {r.service_id: r for r in s.execute(select(SwitchState).where(SwitchState.service_id.in_(ids))).scalars()} if ids else {}
        # registration seeds every service's state in its transaction: a service without one
        # (none in practice) is left out of the page rather than failing it
        return [state_view(rows[i]) for i in ids if i in rows]


def pending(db: Database, actor: Actor, *, include_stale: bool = False) -> list[dict[str, Any]]:
    """Commands awaiting approval that can still apply: the service's state now allows their
    action (the rule ``approve`` applies before it executes one). A resume asked for while the
    service was in canary and approved after a rollback to paused would be refused, so it is not
    listed unless ``include_stale``; each view says ``applies`` and the ``current_state``."""
    with db.reader() as s:
        rows = s.execute(select(Command).join(Service, Service.id == Command.service_id)
                         .where(Command.status == "awaiting_approval", scope.visible_filter(s, actor))
                         .order_by(Command.created_at)).scalars().all()
        out = []
        for c in rows:
            st = s.get(SwitchState, c.service_id)
            applies = st is not None and lookup(State(st.state), Action(c.action)) is not None
            if applies or include_stale:
                out.append({**command_view(s, c), "applies": applies, "current_state": st.state if st else None})
        return out
