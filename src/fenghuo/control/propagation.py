"""In-process fan-out of committed switch changes to whoever follows them (the SSE hub, an
embedded guard, the NATS KV publisher). Called only after the transaction commits, so a
follower never sees a state the database does not hold."""

from __future__ import annotations

from fenghuo.platform.fanout import Fanout, Listener

__all__ = ["Listener", "publish", "subscribe"]

_fanout = Fanout("switch")
_listeners = _fanout.listeners
subscribe = _fanout.subscribe
publish = _fanout.publish
