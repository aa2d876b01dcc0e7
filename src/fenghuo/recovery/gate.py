"""The recovery gate the switch asks before a service leaves ``paused``/``stopped`` or resumes.

- canary from paused/stopped: an open procedure, remediation in this round, and a verification
  of this round that counts (``recovery.evidence``: no failed evaluation left unsuperseded, a
  checklist only where the grade allows and countersigned) and is not older than the latest
  remediation;
- resume: the canary ramp completed in this round (so never straight from paused/stopped);
- canary from canary (a ramp step): an open procedure.

Installed by :func:`install`, which is called in exactly two places: the API app's start-up
(``fenghuo.api.runtime.running``) and the CLI's registration of
the recovery commands (``fenghuo.recovery.cli.register``), so every local command and every
server uses it. What satisfied the gate goes into the switch's ledger entry as evidence.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fenghuo.control import gates
from fenghuo.control.gates import GateResult
from fenghuo.control.models import SwitchState
from fenghuo.control.transitions import Action, State
from fenghuo.recovery import evidence as evidence_rules
from fenghuo.recovery.procedure import _remediations, _verifications, checklist_allowed, current
from fenghuo.registry.models import Service


def _missing_for_canary(s: Session, service_id: str) -> tuple[list[str], dict]:
    proc = current(s, service_id)
    if proc is None:
        return ["没有恢复程序：先记录整改 / no recovery procedure: record remediation first "
                f"(fenghuo recovery remediate {service_id} …)"], {}
    missing: list[str] = []
    rems, vers = _remediations(s, proc), _verifications(s, proc)
    if not rems:
        missing.append(f"第 {proc.round} 轮没有整改记录 / no remediation recorded in round {proc.round}")
    svc, st = s.get(Service, service_id), s.get(SwitchState, service_id)
    problems, counting = evidence_rules.judge(rems, vers, checklist_allowed=checklist_allowed(svc), hold_by=st.hold_by if st else None)
    if not vers:
        problems = [f"第 {proc.round} 轮没有验证（评估运行或会签的检查单）/ no verification in round {proc.round} "
                    "(an evaluation run or a countersigned checklist)"]
    missing.extend(problems)
    shown = counting or (vers[-1] if vers else None)
    proof = {"procedure": proc.id, "round": proc.round, "remediations": [{"id": r.id, "kind": r.kind} for r in rems],
             "verification": {"id": shown.id, "method": shown.method, "ref": shown.ref, "passed": shown.passed,
                              "profile": evidence_rules.profile(shown), "by": shown.by,
                              "countersigned_by": shown.countersigned_by} if shown else None}
    return missing, proof


def requirements(s: Session, service_id: str) -> list[str]:
    """What is still missing for the next step back, in plain words (empty: nothing)."""
    st = s.get(SwitchState, service_id)
    if st is None:
        return []
    if st.state in (State.paused.value, State.stopped.value):
        return _missing_for_canary(s, service_id)[0]
    if st.state == State.canary.value:
        return RecoveryGate().check(s, service_id, State.canary, Action.resume).missing
    return []


class RecoveryGate:
    def check(self, session: Session, service_id: str, from_state: State, action: Action) -> GateResult:
        proc = current(session, service_id)
        if action is Action.canary and from_state in (State.paused, State.stopped):
            missing, evidence = _missing_for_canary(session, service_id)
            return GateResult(not missing, missing, evidence)
        if action is Action.canary:  # a ramp step from canary
            if proc is None:
                return GateResult(False, ["没有恢复程序 / no recovery procedure"])
            return GateResult(True, evidence={"procedure": proc.id, "round": proc.round, "ramp": proc.ramp})
        # resume
        if from_state in (State.paused, State.stopped):
            missing = _missing_for_canary(session, service_id)[0]
            missing.append("必须先完成灰度恢复（如 5%→25%→100%）/ the canary ramp (e.g. 5%→25%→100%) must be completed first")
            return GateResult(False, missing)
        if proc is None:
            return GateResult(False, ["没有恢复程序 / no recovery procedure"])
        if proc.ramp_completed_round != proc.round:
            return GateResult(False, [f"灰度尚未完成（{'→'.join(f'{p}%' for p in proc.ramp)}，每步观察 {proc.hold_seconds} 秒）/ "
                                      f"the canary ramp ({'→'.join(f'{p}%' for p in proc.ramp)}, {proc.hold_seconds} s per step) is not completed"])
        _, evidence = _missing_for_canary(session, service_id)
        return GateResult(True, evidence={**evidence, "ramp": proc.ramp, "ramp_completed_at": proc.ramp_completed_at})


class OpenIncidents:
    """The registry's question "is an incident open on this service?", answered from ``response``."""

    def open_incident(self, session: Session, service_id: str) -> str | None:
        from fenghuo.response.incidents import open_for

        inc = open_for(session, service_id)
        return inc.id if inc is not None else None


def install() -> None:
    """Make the switch ask the recovery procedure, and the registry ask about open incidents
    (idempotent)."""
    if not isinstance(gates.recovery_gate(), RecoveryGate):
        gates.set_recovery_gate(RecoveryGate())
    if not isinstance(gates.incident_probe(), OpenIncidents):
        gates.set_incident_probe(OpenIncidents())
