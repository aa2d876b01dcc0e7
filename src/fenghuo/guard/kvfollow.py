"""The guard's switch source at scale: watch the service's key in the NATS KV bucket.

Same three duties as ``guard.follow.StreamFollower`` (apply states to the cache, count signs of
life, acknowledge), over NATS instead of an HTTP stream:

- the KV watch delivers the current value at once and every later one; each goes to
  ``SwitchCache.apply`` (which ignores anything not newer than what it enforces);
- the control plane's heartbeat subject is the sign of life (``SwitchCache.touch``): NATS
  being up says nothing about whether a control plane is, and a fail-closed service must close
  when none is;
- acknowledgements go out on the acks subject on a change, then every ``ack_seconds``; those of
  a process's guards on one link leave together, one message per service a few milliseconds
  after the first (``scale.acks.AckBatcher``).

A restarted NATS server forgets the watch's consumer, so after every reconnect the watch is
made again (``NatsLink.generation``); the first value it delivers is the current state, so a
change made while the guard was cut off is picked up then. The guards of one service in a
process share one watch (``_SharedWatch``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import nats
import orjson

from fenghuo.guard.follow import _Acker  # the guard's own acknowledgement body, so both transports send the same
from fenghuo.guard.state import SwitchCache, save_state_file
from fenghuo.scale.acks import AckBatcher
from fenghuo.scale.connection import NatsLink, switch_key

log = logging.getLogger(__name__)
_batchers: weakref.WeakKeyDictionary[NatsLink, AckBatcher] = weakref.WeakKeyDictionary()
_batchers_lock = threading.Lock()


def _batcher(link: NatsLink) -> AckBatcher:
    with _batchers_lock:
        batcher = _batchers.get(link)
        if batcher is None:
            batcher = _batchers[link] = AckBatcher(link)
        return batcher


class _SharedWatch:
    """One KV watch per (link, service) in a process, shared by its followers: with 25 guards
    of a service in a process, each watching the key itself made 25 consumers on the NATS
    server and 25 deliveries (decoded one by one in this process) of every change; one watch
    delivers it once and hands the value to every follower. Runs on the link's loop."""

    def __init__(self, link: NatsLink, service: str) -> None:
        self.link, self.service = link, service
        self.followers: list[KvFollower] = []
        self.last: dict[str, Any] | None = None  # the latest value, for a follower that joins later
        self.ready = False  # the initial values have been delivered
        self.task: asyncio.Task | None = None

    def add(self, follower: KvFollower) -> None:
        self.followers.append(follower)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._watch())
        elif self.last is not None:
            follower._apply(self.last)
        if self.ready:
            follower.connected.set()

    def remove(self, follower: KvFollower) -> None:
        if follower in self.followers:
            self.followers.remove(follower)
        if not self.followers:
            _watches.pop((self.link, self.service), None)
            if self.task is not None:
                self.task.cancel()

    async def _watch(self) -> None:
        key = switch_key(self.service)
        while self.followers:
            watcher = None
            try:
                kv = await self.link.js.key_value(self.link.settings.bucket)
                watcher = await kv.watch(key)
                generation = self.link.generation
                while self.followers and generation == self.link.generation:
                    try:
                        entry = await watcher.updates(timeout=1.0)
                    except nats.errors.TimeoutError:
                        continue
                    if entry is None:  # the initial values have all been delivered
                        self.ready = True
                        for f in list(self.followers):
                            f.connected.set()
                        continue
                    if entry.value and entry.operation in (None, "PUT"):
                        self.last = orjson.loads(entry.value)
                        for f in list(self.followers):
                            f._apply(self.last)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS away: the lease decides meanwhile
                log.debug("kv watch: %s", exc)
                await asyncio.sleep(0.25)
            finally:
                self.ready = False
                for f in list(self.followers):
                    f.connected.clear()
                if watcher is not None:
                    try:
                        await watcher.stop()
                    except Exception:  # noqa: BLE001
                        pass


_watches: dict[tuple[NatsLink, str], _SharedWatch] = {}  # touched only on the links' loops


class KvFollower:
    def __init__(self, cache: SwitchCache, link: NatsLink, instance: str, *, kind: str = "gateway",
                 ack_seconds: float = 5.0, state_file: Path | None = None) -> None:
        self.cache, self.link = cache, link
        self.state_file = state_file
        self.acker = _Acker(cache, instance, kind, ack_seconds)
        self.connected = threading.Event()
        self._watch: _SharedWatch | None = None
        self._stopped = False
        self._hb_sub = None
        self.updates = 0

    def start(self) -> KvFollower:
        async def go() -> None:
            key = (self.link, self.cache.info.service)
            watch = _watches.get(key)
            if watch is None:
                watch = _watches[key] = _SharedWatch(self.link, self.cache.info.service)
            self._watch = watch
            watch.add(self)
            self._hb_sub = await self.link.nc.subscribe(self.link.settings.heartbeat_subject, cb=self._on_heartbeat)

        self.link.run(go())
        return self

    def stop(self) -> None:
        self._stopped = True

        async def go() -> None:
            if self._watch is not None:
                self._watch.remove(self)
            if self._hb_sub is not None:
                try:
                    await self._hb_sub.unsubscribe()
                except Exception:  # noqa: BLE001
                    pass

        try:
            self.link.run(go(), timeout=3)
        except Exception:  # noqa: BLE001 - link already closed
            pass

    async def _on_heartbeat(self, _msg) -> None:
        self.cache.touch()
        if self.acker.due():
            self.ack()

    def _apply(self, data: dict[str, Any]) -> None:
        self.updates += 1
        self.connected.set()
        if self.cache.apply(data):
            self.ack()
            if self.state_file:  # the bootstrap file for a cold start without contact
                save_state_file(self.state_file, self.cache.info, data)
        elif self.acker.due():
            self.ack()

    def ack(self) -> None:
        body = self.acker.body(self.cache.lookup())
        self.acker.last_sent = time.monotonic()
        _batcher(self.link).add(body)
