"""The bus between ingest and whoever consumes events (indicators, then rules).

Ingest publishes validated, deduplicated batches; consumers subscribe. The embedded default
delivers synchronously in the publishing thread, so when ``POST /api/v1/events`` answers, the
events are counted and the rules have seen them (that is what makes event-to-warning under a
second cheap). At scale NATS JetStream sits under the same two methods: ``publish`` becomes a
publish to a durable stream, ``subscribe`` a consumer (see docs/monitoring.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from fenghuo.monitor.wire import WireEvent

log = logging.getLogger(__name__)
Handler = Callable[[list[WireEvent]], None]


class Bus(Protocol):
    def publish(self, events: list[WireEvent]) -> int | None:
        """Deliver or store the events; a bus that deduplicates by id returns how many it had already."""
        ...

    def subscribe(self, handler: Handler) -> Callable[[], None]: ...


class InProcessBus:
    """Synchronous fan-out to handlers, in subscription order (indicators before rules)."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, events: list[WireEvent]) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for h in handlers:
            try:
                h(events)
            except Exception:
                log.exception("event consumer failed")
