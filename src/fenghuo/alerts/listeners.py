"""Subscribe to warning transitions in-process (for emergency response, issue 6, and the
dashboard). A listener gets one dict per transition *after* its transaction has committed, so
it never sees a state the database does not hold:

    {"kind": "firing" | "escalated" | "resolved" | "cancelled" | "pending" | "acknowledged",
     "warning": {...warning view...}, "from": "pending", "to": "firing",
     "level": "red", "previous_level": "yellow" | None, "at": "2026-…Z"}

A listener must be quick (hand work to a queue); one that raises is logged and skipped.
To catch up after a restart, read the open warnings with ``alerts.store.open_warnings(db)``
and then subscribe (transitions are also in the ledger, kinds ``warning.*``).
"""

from __future__ import annotations

from fenghuo.platform.fanout import Fanout, Listener

__all__ = ["Listener", "publish", "subscribe"]

_fanout = Fanout("warning")
subscribe = _fanout.subscribe
publish = _fanout.publish
