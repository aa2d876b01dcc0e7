"""The monitor's bus on NATS JetStream: ``publish`` stores events durably, ``subscribe`` names
the handlers the counting leader feeds (``cursor.Counter``).

Publishing: the events of a batch are grouped by service and each group is one JetStream message
(a JSON array) on ``<prefix>.events.<provider>.<service>``, with ``Nats-Msg-Id`` derived from the
group's event ids; ``publish`` returns once every message is stored. One message per event
would be simpler, but nats-py spends tens of µs on each message it receives, which made that the
ceiling of counting (docs/benchmarks.md). JetStream drops a group it already stored (a request
retried unchanged) and says so; ``publish`` returns how many events those held, and ingest
reports them as duplicates. An event resent inside a *different* group is stored again and
dropped by the counting leader (``seen.py``), so ingest cannot always tell; counting is exact
either way. If NATS cannot store the batch, ``publish`` raises ``BusUnavailable`` (HTTP 503) and
the guard keeps the events in its spool: nothing is marked as seen before it is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable

import msgspec

from fenghuo.monitor.bus import Handler
from fenghuo.monitor.wire import WireEvent
from fenghuo.platform.errors import Unavailable
from fenghuo.scale.connection import NatsLink, event_subject

log = logging.getLogger(__name__)
_enc = msgspec.json.Encoder()


class BusUnavailable(Unavailable):
    """HTTP 503 with Retry-After: the guard spools the batch and sends it again."""

    code = "bus_unavailable"
    retry_after = 1


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
        # ``timeout`` bounds a publish to a NATS that is connected but slow; a NATS that is gone
        # (the link has seen the disconnect) is refused at once, and a disconnect seen while
        # waiting for acknowledgements ends the wait (issue 14: ingest used to hang until the
        # client gave up).
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
            except Exception:
                log.exception("event consumer failed")

    def subject(self, service: str) -> str:
        return event_subject(self.link.settings, self.provider_of(service) or "_", service)

    def publish(self, events: list[WireEvent]) -> int:
        groups: dict[str, list[WireEvent]] = {}
        for e in events:
            groups.setdefault(e.service, []).append(e)
        msgs = [(self.subject(svc), _enc.encode(evs), group_id([e.id for e in evs]), len(evs)) for svc, evs in groups.items()]
        if not self.link.connected.is_set():
            raise BusUnavailable("事件总线（NATS）未连接，请稍后重发", "event bus (NATS) not connected, send again later")
        try:
            dup = self.link.run(publish_all(self.link, msgs, timeout=self.timeout), timeout=self.timeout + 1)
        except Exception as exc:  # noqa: BLE001 - NATS down, timeouts, no stream: all mean "not stored"
            raise BusUnavailable("事件总线暂不可用，请稍后重发", f"event bus unavailable, send again later: {type(exc).__name__}: {exc}") from None
        self.published += len(events) - dup
        self.duplicates += dup
        return dup


def group_id(ids: list[str]) -> str:
    """The message id of a group of events: the same events in the same order, the same id."""
    return "g-" + hashlib.blake2b("\x00".join(ids).encode(), digest_size=16).hexdigest()


async def publish_all(link: NatsLink, msgs: list[tuple[str, bytes, str, int]], window: int = 2000,
                      timeout: float = 10.0) -> int:
    """Publish (subject, payload, message id, events in it); at most ``window`` unacknowledged at
    a time. Returns how many events were in messages JetStream already had. Raises if any
    message was not stored, at the latest ``timeout`` seconds in, or as soon as the link loses
    its connection (messages still in the client's buffer may then be stored after all when it
    reconnects: the sender's retry carries the same ``Nats-Msg-Id`` and JetStream drops it)."""
    js = link.js
    dup = 0
    deadline = asyncio.get_running_loop().time() + timeout
    for start in range(0, len(msgs), window):
        part = msgs[start:start + window]
        futs = [await js.publish_async(subj, payload, headers={"Nats-Msg-Id": mid}) for subj, payload, mid, _ in part]
        acks = asyncio.gather(*futs)
        while not acks.done():
            await asyncio.wait({acks}, timeout=0.05)
            if acks.done():
                break
            if not link.connected.is_set() or asyncio.get_running_loop().time() > deadline:
                acks.cancel()
                raise ConnectionError("NATS disconnected" if not link.connected.is_set() else "no acknowledgement in time")
        for ack, (_, _, _, n) in zip(acks.result(), part):
            dup += n if ack.duplicate else 0
    return dup
