"""The recovery gate the switch asks before a service leaves ``paused``/``stopped`` or resumes.

- canary from paused/stopped: an open procedure, remediation in this round, and the latest
  verification of this round passing and not older than the latest remediation;
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
from fenghuo.recovery.procedure import _remediations, _verifications, current


def _missing_for_canary(s: Session, service_id: str) -> tuple[list[str], dict]:
    proc = current(s, service_id)
    if proc is None:
        return ["没有恢复程序：先记录整改 / no recovery procedure: record remediation first "
                f"(fenghuo recovery remediate {service_id} …)"], {}
    missing: list[str] = []
    rems, vers = _remediations(s, proc), _verifications(s, proc)
    if not rems:
        missing.append(f"第 {proc.round} 轮没有整改记录 / no remediation recorded in round {proc.round}")
    latest = vers[-1] if vers else None
    if latest is None:
        missing.append(f"第 {proc.round} 轮没有验证（评估运行或签署的检查单）/ no verification in round {proc.round} "
                       "(an evaluation run or a signed checklist)")
    elif not latest.passed:
        missing.append(f"最近一次验证 {latest.id}（{latest.method} {latest.ref}）未通过 / the latest verification "
                       f"{latest.id} ({latest.method} {latest.ref}) failed")
    elif rems and latest.at < rems[-1].at:
        missing.append(f"验证早于最近一次整改 {rems[-1].id}，需重新验证 / the verification predates remediation {rems[-1].id}: verify again")
    evidence = {"procedure": proc.id, "round": proc.round, "remediations": [{"id": r.id, "kind": r.kind} for r in rems],
                "verification": {"id": latest.id, "method": latest.method, "ref": latest.ref, "passed": latest.passed} if latest else None}
    return missing, evidence


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


def install() -> None:
    """Make the switch ask the recovery procedure (idempotent)."""
    if not isinstance(gates.recovery_gate(), RecoveryGate):
        gates.set_recovery_gate(RecoveryGate())
