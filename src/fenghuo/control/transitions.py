"""The one table of legal switch transitions: from which states each command may be given,
where it leads, who may give it, and what it needs.

Pure data and lookups, no I/O. Everything else (API, CLI, plan executor, property tests) asks
this table, so a transition cannot be legal in one place and illegal in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fenghuo.platform.roles import Role


class State(str, Enum):
    running = "running"
    degraded = "degraded"  # served by the backup model (备份系统)
    throttled = "throttled"
    paused = "paused"  # 暂停运行: lifted only through the recovery procedure
    stopped = "stopped"  # the switch thrown (阻断)
    canary = "canary"  # resuming on a share of traffic


class Action(str, Enum):
    pause = "pause"
    stop = "stop"
    degrade = "degrade"
    throttle = "throttle"
    restore = "restore"
    canary = "canary"
    resume = "resume"


S, A, R = State, Action, Role
ACTORS = frozenset({R.operator, R.system, R.admin})
WITH_REGULATOR = ACTORS | {R.regulator}
RESUMERS = frozenset({R.operator, R.regulator, R.admin})  # a person, never an automated plan


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    needs_rate: bool = False  # throttle: requests per second
    needs_percent: bool = False  # canary: share of traffic to the primary
    needs_backup: bool = False  # degrade: the service must have a backup model
    needs_recovery: bool = False  # leaving paused/stopped: the recovery procedure must be satisfied
    grade_approvals: bool = False  # the grade's resume_approvals distinct people must approve

    def describe(self) -> str:
        needs = ["reason"]
        needs += ["rate"] * self.needs_rate + ["percent"] * self.needs_percent + ["backup model"] * self.needs_backup
        needs += ["recovery procedure (from paused/stopped)"] * self.needs_recovery
        needs += ["approvals per grade"] * self.grade_approvals
        return f"{self.action.value}: {{{', '.join(sorted(s.value for s in self.sources))}}} → {self.target.value}; roles {sorted(r.value for r in self.roles)}; needs {', '.join(needs)}"


_ALL = frozenset(State)
TABLE: dict[Action, Transition] = {
    A.pause: Transition(A.pause, frozenset({S.running, S.degraded, S.throttled, S.canary}), S.paused, WITH_REGULATOR),
    A.stop: Transition(A.stop, _ALL - {S.stopped}, S.stopped, WITH_REGULATOR),
    A.degrade: Transition(A.degrade, frozenset({S.running, S.throttled}), S.degraded, ACTORS, needs_backup=True),
    A.throttle: Transition(A.throttle, frozenset({S.running, S.degraded, S.throttled}), S.throttled, ACTORS, needs_rate=True),
    A.restore: Transition(A.restore, frozenset({S.degraded, S.throttled}), S.running, ACTORS),
    A.canary: Transition(A.canary, frozenset({S.paused, S.stopped, S.canary}), S.canary, ACTORS | {R.regulator},
                         needs_percent=True, needs_recovery=True),
    A.resume: Transition(A.resume, frozenset({S.paused, S.stopped, S.canary}), S.running, RESUMERS,
                         needs_recovery=True, grade_approvals=True),
}


def allowed_from(state: State) -> list[Action]:
    return [t.action for t in TABLE.values() if state in t.sources]


def lookup(state: State, action: Action) -> Transition | None:
    t = TABLE[action]
    return t if state in t.sources else None


def markdown_table() -> str:
    """The table as Markdown, for docs/foundation.md (a test keeps the two identical)."""
    rows = ["| command | from | to | who may | needs |", "|---|---|---|---|---|"]
    for t in TABLE.values():
        needs = ["reason"] + ["rate"] * t.needs_rate + ["percent"] * t.needs_percent + ["a backup model"] * t.needs_backup
        needs += ["the recovery procedure"] * t.needs_recovery + ["the grade's number of approvers"] * t.grade_approvals
        rows.append(f"| `{t.action.value}` | {', '.join(sorted(s.value for s in t.sources))} | {t.target.value} | "
                    f"{', '.join(sorted(r.value for r in t.roles))} | {', '.join(needs)} |")
    return "\n".join(rows)
