"""In-process fan-out of committed switch changes to whoever follows them (the SSE hub, an
embedded guard). Called only after the transaction commits, so a follower never sees a state
the database does not hold."""

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
        except Exception:  # noqa: BLE001 - one broken follower must not stop the others
            log.exception("switch listener failed")
