"""Guard telemetry straight into JetStream: a ``guard.telemetry.Sink`` that publishes a batch
as one message per service (see ``jsbus``) and raises unless every one was stored.

The guard's ``Telemetry`` spools a batch to disk when ``send`` raises and sends it again later,
so a NATS restart loses nothing. A batch that was in fact stored before the failure comes back
with the same message id (JetStream drops it) or, re-cut by the spool, as a new message whose
events the counting leader recognises by id (``seen.py``); nothing is counted twice. The control
plane is not on this path: a gateway's events are kept while every replica is down, and counted
when one returns (``cursor.py``).
"""

from __future__ import annotations

import orjson

from fenghuo.scale.connection import NatsLink, event_subject
from fenghuo.scale.jsbus import group_id, publish_all


class NatsSink:
    def __init__(self, link: NatsLink, provider: str | None, timeout: float = 10.0) -> None:
        self.link, self.provider, self.timeout = link, provider or "_", timeout
        self.stored = 0
        self.duplicates = 0

    def send(self, body: bytes, count: int) -> None:
        groups: dict[str, list[dict]] = {}
        for e in orjson.loads(body):
            groups.setdefault(e["service"], []).append(e)
        msgs = [(event_subject(self.link.settings, self.provider, svc), orjson.dumps(evs), group_id([e["id"] for e in evs]), len(evs))
                for svc, evs in groups.items()]
        dup = self.link.run(publish_all(self.link, msgs), timeout=self.timeout)
        self.stored += count - dup
        self.duplicates += dup
