"""The monitor's bus on NATS JetStream: ``publish`` stores events durably, ``subscribe`` names
the handlers the counting leader feeds (``cursor.Counter``).

Publishing: one JetStream message per event on ``<prefix>.events.<provider>.<service>`` with
``Nats-Msg-Id`` set to the event id, sent concurrently and awaited together (``publish_async``),
so ``publish`` returns only when every event is stored. JetStream drops a message whose id it
saw within the stream's ``duplicate_window`` and says so in the PubAck; that replaces the
database table the embedded ingest uses to refuse repeats, and it works across replicas (two
replicas have two memories but one stream). ``publish`` returns how many were duplicates, which
ingest reports as such. If NATS cannot store the batch, ``publish`` raises ``BusUnavailable``
(HTTP 503) and the guard keeps the events in its spool and sends them again: nothing is marked
seen before it is stored, so a retry is never mistaken for a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import msgspec

from fenghuo.monitor.bus import Handler
from fenghuo.monitor.wire import WireEvent
from fenghuo.platform.errors import FenghuoError
from fenghuo.scale.connection import NatsLink, event_subject

log = logging.getLogger(__name__)
_enc = msgspec.json.Encoder()


class BusUnavailable(FenghuoError):
    status = 503
    code = "bus_unavailable"


class StreamDedup:
    """Ingest-side dedup when JetStream deduplicates: only repeats inside one batch are dropped
    here; nothing is remembered (see module doc for why)."""

    def load(self, now: float) -> int:
        return 0

    def fresh(self, ids: list[str]) -> list[bool]:
        seen: set[str] = set()
        out = []
        for i in ids:
            out.append(i not in seen)
            seen.add(i)
        return out

    def commit(self, ids: list[str], now: float) -> None:
        return None

    def __len__(self) -> int:
        return 0


class JetStreamBus:
    dedup = StreamDedup()

    def __init__(self, link: NatsLink, provider_of: Callable[[str], str | None], *, timeout: float = 10.0) -> None:
        self.link = link
        self.provider_of = provider_of
        self.timeout = timeout
        self.handlers: list[Handler] = []
        self._lock = threading.Lock()
        self.published = 0
        self.duplicates = 0

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self.handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self.handlers:
                    self.handlers.remove(handler)

        return unsubscribe

    def deliver(self, events: list[WireEvent]) -> None:
        """Called by the counting leader with events in stream order."""
        with self._lock:
            handlers = list(self.handlers)
        for h in handlers:
            try:
                h(events)
            except Exception:  # noqa: BLE001 - one failing consumer must not stop counting
                log.exception("event consumer failed")

    def subject(self, service: str) -> str:
        return event_subject(self.link.settings, self.provider_of(service) or "_", service)

    def publish(self, events: list[WireEvent]) -> int:
        msgs = [(self.subject(e.service), _enc.encode(e), e.id) for e in events]
        try:
            dup = self.link.run(publish_all(self.link, msgs), timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - NATS down, timeouts, no stream: all mean "not stored"
            raise BusUnavailable("事件总线暂不可用，请稍后重发", f"event bus unavailable, send again later: {type(exc).__name__}: {exc}") from None
        self.published += len(events) - dup
        self.duplicates += dup
        return dup


async def publish_all(link: NatsLink, msgs: list[tuple[str, bytes, str]], window: int = 2000) -> int:
    """Publish (subject, payload, id) messages, at most ``window`` unacknowledged at a time;
    returns how many JetStream recognised as duplicates. Raises if any was not stored."""
    js = link.js
    dup = 0
    for start in range(0, len(msgs), window):
        futs = [await js.publish_async(subj, payload, headers={"Nats-Msg-Id": mid}) for subj, payload, mid in msgs[start:start + window]]
        for ack in await asyncio.wait_for(asyncio.gather(*futs), timeout=10):
            dup += bool(ack.duplicate)
    return dup
