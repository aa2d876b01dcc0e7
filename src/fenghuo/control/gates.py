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


# --- open incidents, for the registry ---------------------------------------------------------
# A re-registration that lowers a service's grade or moves it is refused while an incident on
# it is open (issue 14). Incidents belong to ``response``, above this package; the recovery
# domain's ``install`` (which the server and the CLI already call) installs the probe. Until it
# does, the switch's own record of the incident its state belongs to is what is known.


class IncidentProbe(Protocol):
    def open_incident(self, session: Session, service_id: str) -> str | None: ...


class StateIncident:
    """Default: the incident the switch state was set for (``SwitchState.incident_id``)."""

    def open_incident(self, session: Session, service_id: str) -> str | None:
        from fenghuo.control.models import SwitchState

        st = session.get(SwitchState, service_id)
        return st.incident_id if st is not None else None


_incidents: IncidentProbe = StateIncident()


def set_incident_probe(probe: IncidentProbe) -> None:
    global _incidents
    _incidents = probe


def incident_probe() -> IncidentProbe:
    return _incidents


# --- is a control-plane loop running? -----------------------------------------------------------
# A canary advances only while a loop ticks the ramp (``recovery.loop``, above this package);
# the ``canary`` command asks through this probe and says so when none runs (issue 15). The
# recovery CLI installs the probe; until then nothing is known and nothing is said.


class LoopProbe(Protocol):
    def note(self, db) -> str | None: ...  # a Database; the bilingual warning when no loop runs


class UnknownLoop:
    def note(self, db) -> str | None:
        return None


_loop: LoopProbe = UnknownLoop()


def set_loop_probe(probe: LoopProbe) -> None:
    global _loop
    _loop = probe


def loop_probe() -> LoopProbe:
    return _loop
