"""The canary ramp and its automatic rollback, driven by a periodic ``tick``.

For each open procedure whose service is in ``canary``:
- a firing warning on the service at or above the procedure's rollback level (rule-driven, not a
  deadline warning) pauses it again — actor ``system:recovery-ramp`` — and starts a new round,
  so new remediation and a new passing verification are needed before the next canary;
- otherwise, once the current step has been held for ``hold_seconds``, the next step is
  commanded; after the last step's hold the ramp is recorded as completed and a person resumes
  with the grade's approvals.
A service back in ``running`` closes its procedure.

Every command carries an id derived from (procedure, round, step), so a restarted ticker repeats
nothing; progress is read from the switch state, so it skips nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from fenghuo.alerts.levels import Level
from fenghuo.control import switch
from fenghuo.control.models import SwitchState
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict
from fenghuo.platform.roles import Actor, Role
from fenghuo.recovery.models import Procedure
from fenghuo.response.report_clocks import parse

log = logging.getLogger(__name__)
RAMP_ACTOR = Actor("recovery-ramp", Role.system)


def rule_warnings(db: Database, service_id: str) -> list[dict[str, Any]]:
    """Firing warnings raised by the service's rules (not by reporting clocks)."""
    from fenghuo.alerts.store import open_warnings

    return [w for w in open_warnings(db, service_id) if w["state"] == "firing" and (w.get("labels") or {}).get("source") != "response.clock"]


def _rollback(db: Database, proc: Procedure, w: dict[str, Any]) -> dict[str, Any]:
    reason = (f"灰度期间出现{w['level']}预警 {w['id']}（{w['alert']}），自动回退到暂停 / "
              f"{w['level']} warning {w['id']} ({w['alert']}) during canary: automatic rollback to paused")
    try:
        switch.execute(db, RAMP_ACTOR, proc.service_id, "pause", reason, command_id=f"rb-{proc.id}-{proc.round}")
    except Conflict as exc:
        if exc.code != "illegal_transition":
            raise
    with db.transaction() as s:
        p = s.get(Procedure, proc.id)
        if p.round != proc.round:
            return {}
        p.round += 1
        p.ramp_completed_round = None
        ledger.append(s, db.clock, "recovery.rolled_back", p.service_id, RAMP_ACTOR.label, {
            "procedure": p.id, "from_round": proc.round, "round": p.round, "warning": w["id"], "level": w["level"],
            "alert": w["alert"], "command": f"rb-{proc.id}-{proc.round}", "incident": p.incident_id})
        if p.incident_id:
            from fenghuo.response import incidents

            incidents.link(s, p.incident_id, "warning", w["id"], iso(db.clock.now()), "canary rollback / 灰度回退")
            incidents.link(s, p.incident_id, "command", f"rb-{proc.id}-{proc.round}", iso(db.clock.now()), "rollback to paused / 回退暂停")
    return {"service": proc.service_id, "rolled_back": True, "warning": w["id"]}


def _step(ramp: list[int], percent: int | None) -> int:
    below = [i for i, p in enumerate(ramp) if p <= (percent or 0)]
    return below[-1] if below else -1


def tick(db: Database) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    with db.reader() as s:
        procs = s.execute(select(Procedure).where(Procedure.status == "open")).scalars().all()
        states = {p.service_id: s.get(SwitchState, p.service_id) for p in procs}
    now = db.clock.now()
    for proc in procs:
        st = states[proc.service_id]
        if st.state == "running":
            with db.transaction() as s:
                p = s.get(Procedure, proc.id)
                if p.status == "open":
                    p.status, p.completed_at = "completed", iso(now)
                    ledger.append(s, db.clock, "recovery.completed", p.service_id, RAMP_ACTOR.label,
                                  {"procedure": p.id, "round": p.round, "resumed_by_command": st.command_id, "incident": p.incident_id})
            done.append({"service": proc.service_id, "completed": True})
            continue
        if st.state != "canary":
            continue
        bad = [w for w in rule_warnings(db, proc.service_id) if Level(w["level"]) >= Level(proc.rollback_level)]
        if bad:
            done.append(_rollback(db, proc, bad[0]))
            continue
        i = _step(proc.ramp, st.percent)
        held = (now - parse(st.changed_at)).total_seconds()
        if held < proc.hold_seconds or proc.ramp_completed_round == proc.round:
            continue
        if i == len(proc.ramp) - 1:
            with db.transaction() as s:
                p = s.get(Procedure, proc.id)
                if p.ramp_completed_round != p.round:
                    p.ramp_completed_round, p.ramp_completed_at = p.round, iso(now)
                    ledger.append(s, db.clock, "recovery.ramp_completed", p.service_id, RAMP_ACTOR.label,
                                  {"procedure": p.id, "round": p.round, "ramp": p.ramp, "held_seconds": held, "incident": p.incident_id})
            done.append({"service": proc.service_id, "ramp_completed": True})
        else:
            nxt = proc.ramp[i + 1]
            reason = (f"灰度第 {i + 2} 步：观察 {int(held)} 秒无预警，升至 {nxt}% / canary step {i + 2}: "
                      f"{int(held)} s without warnings, raise to {nxt}%")
            v = switch.execute(db, RAMP_ACTOR, proc.service_id, "canary", reason,
                               command_id=f"ramp-{proc.id}-{proc.round}-{i + 1}", percent=nxt)
            done.append({"service": proc.service_id, "percent": nxt, "command": v["command"]})
    return done
