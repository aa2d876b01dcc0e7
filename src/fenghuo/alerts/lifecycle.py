"""The warning state machine (pure: no database, no clock of its own).

One warning per (alert, service): the rules that share an ``alert`` name are its levels. Each
rule that holds is *pending* from the moment it first held; once it has held for its ``for``,
it is *ready*. The warning is

- **pending** while some rule holds but none is ready (level = the highest holding rule);
- **firing** once a rule is ready; its level rises when a higher rule becomes ready
  (yellow → orange → red) and never falls while firing — a red warning stays red until resolved;
- **resolved** when no rule has held for ``keep_firing_for`` (the flap guard: a condition that
  clears and comes back inside that time stays one warning). A pending warning whose rules stop
  holding is resolved without ever firing (``cancelled``).

A rule that cannot be measured (``None``) keeps its last state: it neither starts, clears nor
promotes a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fenghuo.alerts.levels import Level, highest
from fenghuo.alerts.rules import Rule
from fenghuo.platform.clock import iso_seconds

PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"


@dataclass
class WarningState:
    id: str
    fingerprint: str
    alert: str
    service: str
    state: str
    level: Level
    # UNIX seconds: this runs on every evaluation, so it computes in seconds; alerts.store
    # converts to the ISO text rows and views hold
    started_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    clearing_since: float | None = None
    rules: dict[str, float] = field(default_factory=dict)  # rule name -> holding since
    rule: str = ""  # the rule that set the level
    value: float | None = None
    flaps: int = 0
    ack_owner: str | None = None
    silenced_by: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "fingerprint": self.fingerprint, "alert": self.alert, "service": self.service,
                "state": self.state, "level": self.level.value, "rule": self.rule, "value": self.value,
                "started_at": iso_seconds(self.started_at), "fired_at": iso_seconds(self.fired_at),
                "rules_holding": {k: iso_seconds(v) for k, v in self.rules.items()}, "flaps": self.flaps}


@dataclass(frozen=True)
class Transition:
    kind: str  # pending | firing | escalated | resolved | cancelled
    warning: WarningState
    from_state: str | None
    to_state: str
    level: Level
    previous_level: Level | None = None


def advance(w: WarningState, rules: list[Rule], results: dict[str, tuple[bool | None, float]], now: float) -> list[Transition]:
    """Apply one evaluation's results (rule name -> (holds, value)) to a warning; returns the
    transitions it made (usually none)."""
    by_name = {r.name: r for r in rules}
    for name, (holds, _value) in results.items():
        if holds is None:
            continue
        if holds:
            w.rules.setdefault(name, now)
        else:
            w.rules.pop(name, None)
    holding = [by_name[n] for n in w.rules if n in by_name]
    # ready: held for its `for` *and* measured true now (an unmeasurable rule keeps its place
    # but cannot promote a warning on a guess)
    ready = [r for r in holding if now - w.rules[r.name] >= r.for_seconds and results.get(r.name, (None, 0))[0] is True]
    out: list[Transition] = []
    if w.state == PENDING:
        if ready:
            top = max(ready, key=lambda r: r.level.rank)
            prev = w.state
            w.state, w.level, w.rule, w.fired_at, w.clearing_since = FIRING, top.level, top.name, now, None
            w.value = results.get(top.name, (None, w.value))[1]
            out.append(Transition("firing", w, prev, FIRING, w.level))
        elif not holding:
            w.state, w.resolved_at = RESOLVED, now
            out.append(Transition("cancelled", w, PENDING, RESOLVED, w.level))
        else:
            top = max(holding, key=lambda r: r.level.rank)
            w.level, w.rule = top.level, top.name
    elif w.state == FIRING:
        if holding:
            if w.clearing_since is not None:
                w.flaps += 1
            w.clearing_since = None
        top_level = highest(r.level for r in ready)
        if top_level is not None and top_level > w.level:
            top = max(ready, key=lambda r: r.level.rank)
            prev_level = w.level
            w.level, w.rule = top.level, top.name
            w.value = results.get(top.name, (None, w.value))[1]
            out.append(Transition("escalated", w, FIRING, FIRING, w.level, prev_level))
        if not holding:
            if w.clearing_since is None:
                w.clearing_since = now
            keep = max((r.keep_firing_for for r in rules), default=0.0)
            if now - w.clearing_since >= keep:
                w.state, w.resolved_at = RESOLVED, now
                out.append(Transition("resolved", w, FIRING, RESOLVED, w.level))
    return out


def start(w: WarningState, rules: list[Rule], results: dict[str, tuple[bool | None, float]], now: float) -> list[Transition]:
    """A new warning (state None) for which some rule holds: pending, or firing at once."""
    w.state = PENDING
    w.rules = {n: now for n, (h, _v) in results.items() if h}
    holding = [r for r in rules if r.name in w.rules]
    top = max(holding, key=lambda r: r.level.rank)
    w.level, w.rule, w.value = top.level, top.name, results[top.name][1]
    out = [Transition("pending", w, None, PENDING, w.level)]
    out += advance(w, rules, results, now)
    return out
