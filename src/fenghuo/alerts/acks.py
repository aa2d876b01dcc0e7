"""Acknowledging a warning: the one function both the server's alert engine and the local
command line call, so an acknowledgement always writes the same row, the same ledger entry and
the same ``acknowledged`` listener event, whichever way it came in.

A server on the same database learns of an acknowledgement made elsewhere (the local CLI,
another replica) when it next considers repeating the warning's notification: it reads the
owner back from the database then (``AlertEngine._repeats``)."""

from __future__ import annotations

from typing import Any

from fenghuo.alerts import listeners, store
from fenghuo.alerts.lifecycle import FIRING, PENDING
from fenghuo.alerts.models import WarningRow
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Invalid, NotFound


def acknowledge(db: Database, warning_id: str, owner: str, note: str, actor_label: str) -> dict[str, Any]:
    """Name the owner of an open warning; answers the warning's view."""
    if not owner.strip():
        raise Invalid("确认预警必须指定负责人", "an acknowledgement needs an owner", field="owner")
    now = iso(db.clock.now())
    with db.transaction() as s:
        row = s.get(WarningRow, warning_id)
        if row is None:
            raise NotFound(f"未知预警 {warning_id}", f"unknown warning {warning_id}")
        if row.state not in (PENDING, FIRING):
            raise Conflict(f"预警 {warning_id} 已解除，无需确认", f"warning {warning_id} is {row.state}; nothing to acknowledge")
        row.ack_owner, row.ack_by, row.ack_at, row.ack_note = owner, actor_label, now, note
        ledger.append(s, db.clock, "warning.acknowledged", f"warning:{row.id}", actor_label,
                      {"warning": row.id, "owner": owner, "note": note, "state": row.state, "level": row.level})
        result = store.view(row)
    listeners.publish({"kind": "acknowledged", "warning": result, "from": result["state"], "to": result["state"],
                       "level": result["level"], "previous_level": None, "at": now})
    return result
