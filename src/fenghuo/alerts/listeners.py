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

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Listener = Callable[[dict[str, Any]], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def publish(change: dict[str, Any]) -> None:
    with _lock:
        targets = list(_listeners)
    for listener in targets:
        try:
            listener(change)
        except Exception:  # noqa: BLE001 - one broken listener must not stop the others
            log.exception("warning listener failed")
