"""In-process fan-out: listeners subscribe, a publisher calls each after its transaction has
committed. Used for switch changes (``control.propagation``) and warning transitions
(``alerts.listeners``); one broken listener is logged and skipped, never stops the others."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Listener = Callable[[dict[str, Any]], None]


class Fanout:
    def __init__(self, name: str) -> None:
        self.name = name
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self.listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self.listeners:
                    self.listeners.remove(listener)

        return unsubscribe

    def publish(self, change: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self.listeners)
        for listener in targets:
            try:
                listener(change)
            except Exception:
                log.exception("%s listener failed", self.name)
