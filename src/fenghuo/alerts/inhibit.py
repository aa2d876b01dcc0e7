"""Inhibition (the inhibit stage): while a service has a firing warning at orange or red, new
lower-level (blue, yellow) notifications for the same service are held back — the people
already paged for the bigger fire do not need the smaller one too. Held-back notifications are
logged with their reason, and the state changes still reach the ledger."""

from __future__ import annotations

from collections.abc import Iterable

from fenghuo.alerts.levels import Level

INHIBITING = (Level.orange, Level.red)
INHIBITED = (Level.blue, Level.yellow)


def inhibited_by(level: Level, service: str, warning_id: str, firing: Iterable) -> str | None:
    """The id of a firing warning that inhibits this notification, if any."""
    if level not in INHIBITED:
        return None
    for w in firing:
        if w.service == service and w.id != warning_id and w.state == "firing" and w.level in INHIBITING:
            return w.id
    return None
