"""Guard telemetry straight into JetStream: a ``guard.telemetry.Sink`` that publishes each event
of a batch with ``Nats-Msg-Id`` = event id and raises unless every one was stored.

The guard's ``Telemetry`` spools a batch to disk when ``send`` raises and sends it again later,
so a NATS restart loses nothing; a batch that was in fact stored before the failure is sent
again with the same ids and JetStream drops the repeats (``duplicate_window``), so nothing is
stored twice either. The control plane is not on this path at all: a gateway's events are kept
while every control-plane replica is down, and counted when one returns (``cursor.py``).
"""

from __future__ import annotations

import orjson

from fenghuo.scale.connection import NatsLink, event_subject
from fenghuo.scale.jsbus import publish_all


class NatsSink:
    def __init__(self, link: NatsLink, provider: str | None, timeout: float = 10.0) -> None:
        self.link, self.provider, self.timeout = link, provider or "_", timeout
        self.stored = 0
        self.duplicates = 0

    def send(self, body: bytes, count: int) -> None:
        events = orjson.loads(body)
        msgs = [(event_subject(self.link.settings, self.provider, e["service"]), orjson.dumps(e), e["id"]) for e in events]
        dup = self.link.run(publish_all(self.link, msgs), timeout=self.timeout)
        self.stored += len(msgs) - dup
        self.duplicates += dup
