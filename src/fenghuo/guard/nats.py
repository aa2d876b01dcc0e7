"""A guard whose switch source is the NATS KV bucket and whose telemetry goes to JetStream.

``Guard`` already takes its sink and lets its follower be chosen (``follow=False``); this only
supplies the NATS pair (connection and sink from ``fenghuo.scale``, the KV follower from
``guard.kvfollow``), so the guard's core needs no NATS code: ``nats_guard(service,
"nats://…", control=…, token=…)`` is the same guard with other transports. It sits in the guard
package, above ``scale``, so that ``scale`` never imports the guard. ``control`` is still
used once at start for the registry's facts (fail-safe, lease, backup model); without it the
caller passes ``lease``/``failsafe`` or the safe defaults apply.

One NATS connection per process and URL is shared by all its guards (``link_for``).
"""

from __future__ import annotations

import threading
from typing import Any

from fenghuo.guard.kvfollow import KvFollower
from fenghuo.scale.connection import NatsLink, NatsSettings
from fenghuo.scale.sink import NatsSink

_links: dict[tuple[str, str], NatsLink] = {}
_lock = threading.Lock()


def link_for(url: str, prefix: str | None = None) -> NatsLink:
    key = (url, prefix or "")
    with _lock:
        link = _links.get(key)
        if link is None:
            settings = NatsSettings.from_url(url)
            if prefix:
                settings.with_prefix(prefix)
            link = _links[key] = NatsLink(settings, name="fenghuo-guard").connect()
        return link


def nats_guard(service: str, bus: str | NatsLink, *, control: str | None = None, token: str | None = None,
               ack_seconds: float = 5.0, kind: str = "gateway", provider: str | None = None, **kw: Any):
    """``provider``: the subject events go under when the registry cannot be asked (no ``control``)."""
    from fenghuo.guard.core import Guard

    link = bus if isinstance(bus, NatsLink) else link_for(bus)
    sink = kw.pop("sink", None)
    guard = Guard(service, control, token, None, follow=False, kind=kind, ack_seconds=ack_seconds,
                  sink=sink if sink is not None else _LazySink(link), **kw)
    if isinstance(guard.telemetry.sink, _LazySink):
        guard.telemetry.sink.provider = provider or guard.info.provider or "_"
    guard.follower = KvFollower(guard.cache, link, guard.instance, kind=kind, ack_seconds=ack_seconds,
                                state_file=guard.state_file).start()
    if control:  # per-user measures (CN-PO-09) are polled from the control plane, not the KV bucket
        from fenghuo.guard.user_measures import UserFollower

        guard.user_follower = UserFollower(guard.users, service, control=control, token=token,
                                           poll_seconds=kw.get("user_poll_seconds", 1.0)).start()
        from fenghuo.guard.model_versions import ModelFollower  # model versions (CN-TC-18) likewise

        guard.model_follower = ModelFollower(guard.models, control=control, token=token,
                                             poll_seconds=kw.get("user_poll_seconds", 1.0)).start()
    return guard


class _LazySink(NatsSink):
    """The provider is known only once the guard has read the registry."""

    def __init__(self, link: NatsLink) -> None:
        super().__init__(link, None)
