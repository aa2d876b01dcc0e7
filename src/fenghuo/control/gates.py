"""The hook that decides whether a service may leave ``paused`` or ``stopped``.

Resuming is not a plain command: it is allowed only once the recovery procedure
(remediation → verification → canary) has been satisfied. The recovery domain installs its
own gate with :func:`set_recovery_gate`; until it does, the default gate refuses and says
plainly why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from fenghuo.control.transitions import Action, State


@dataclass(frozen=True)
class GateResult:
    ok: bool
    missing: list[str] = field(default_factory=list)  # what is still needed, in plain words
    evidence: dict = field(default_factory=dict)  # what satisfied it, recorded in the ledger


class RecoveryGate(Protocol):
    def check(self, session: Session, service_id: str, from_state: State, action: Action) -> GateResult: ...


class NoRecoveryYet:
    """Default: no recovery procedure exists for any service, so nothing may resume."""

    def check(self, session: Session, service_id: str, from_state: State, action: Action) -> GateResult:
        return GateResult(False, [
            "恢复程序未完成：需先记录整改、通过验证并完成灰度 / recovery procedure not satisfied: "
            "remediation, verification and a canary must be recorded first",
        ])


_gate: RecoveryGate = NoRecoveryYet()


def set_recovery_gate(gate: RecoveryGate) -> None:
    global _gate
    _gate = gate


def recovery_gate() -> RecoveryGate:
    return _gate
