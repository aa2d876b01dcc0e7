"""What a plan does about a warning, as a pure function of (plan, warning, time).

The executor and ``fenghuo plan simulate`` both ask :func:`schedule`, so a simulation shows
exactly what execution would do — not a second interpretation of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fenghuo.alerts.levels import Level
from fenghuo.platform.clock import seconds
from fenghuo.platform.errors import Invalid
from fenghuo.response.plans import Plan, PlanAction, Trigger


@dataclass(frozen=True)
class WarningView:
    """The small interface the response side needs from a warning (issue 5's alerts provide it).
    Times are UNIX seconds: schedules are arithmetic on them; alerts views carry ISO text."""

    id: str
    service: str
    alert: str
    level: Level
    state: str  # pending | firing | resolved | cancelled
    started_at: float
    fired_at: float | None = None
    rule: str = ""
    labels: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WarningView:
        """From an alerts view (ISO times) or a hand-written simulation entry (seconds or ISO)."""
        try:
            started = _seconds(d.get("started_at", 0))
            fired = d.get("fired_at")
            state = d.get("state", "firing")
            return cls(id=str(d.get("id") or f"sim-{d['service']}-{d.get('alert', 'x')}"), service=str(d["service"]),
                       alert=str(d.get("alert", d.get("rule", "warning"))), level=Level(d["level"]), state=state,
                       started_at=started, fired_at=_seconds(fired) if fired is not None else (started if state == "firing" else None),
                       rule=str(d.get("rule", "")), labels=dict(d.get("labels") or {}))
        except (KeyError, ValueError, TypeError) as exc:
            raise Invalid(f"预警格式不对：{exc}（需要 service、level，可选 alert、state、started_at、fired_at）",
                          f"bad warning: {exc} (needs service, level; optional alert, state, started_at, fired_at)",
                          field="warnings") from None


def _seconds(v: Any) -> float:
    """ISO text (what alerts views hold) through the platform's one parser; numbers and datetimes
    only for hand-written simulation entries."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, datetime):
        return v.timestamp()
    return seconds(str(v))


@dataclass(frozen=True)
class Step:
    trigger: Trigger
    action: PlanAction
    due_at: float

    @property
    def key(self) -> str:
        return f"{self.trigger.id}/{self.action.id}"


def schedule(plan: Plan, w: WarningView) -> list[Step]:
    """Every step the plan takes for this warning at its current level, due times included.
    Nothing is scheduled until the warning fires (a pending warning is not yet a warning)."""
    if w.state != "firing" or w.fired_at is None:
        return []
    steps = []
    for t in plan.triggers:
        if t.matches(w.level, w.alert):
            for a in t.actions:
                steps.append(Step(t, a, w.fired_at + max(t.for_seconds, a.after)))
    return steps


def due(plan: Plan, w: WarningView, now: float) -> list[Step]:
    return [s for s in schedule(plan, w) if s.due_at <= now]


def describe(step: Step) -> str:
    a = step.action
    what = {"notify": f"notify {', '.join(a.channels)}", "escalate": f"escalate to {', '.join(a.channels)} if still firing",
            "throttle": f"throttle to {a.rate}/s", "open_incident": f"open incident ({a.grade or 'grade from level'})"}.get(a.do, a.do)
    how = "auto (system)" if a.approval is None else f"after approval by {a.approval.count} {a.approval.role.value}(s)"
    if a.do in ("notify", "escalate", "open_incident"):
        how = "auto (system)"
    return f"{what}; {how}; owner {a.owner}"
