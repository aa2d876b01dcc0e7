"""Pushing switch changes to followers over server-sent events.

The hub hears committed changes from this process at once (``propagation``) and polls the
database for changes made elsewhere (the local CLI, another replica). It forwards a change
only if its version is newer than the last one sent for that service, so followers see each
version once and in order. A follower gets a snapshot of every state it may see on connect,
then changes, and a heartbeat so it can tell a live stream from a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from fenghuo.control import propagation
from fenghuo.control.models import SwitchState
from fenghuo.control.switch import state_view
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


class SwitchHub:
    def __init__(self, db: Database, heartbeat_seconds: float, poll_seconds: float) -> None:
        self.db = db
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        self.known: dict[str, tuple[int, str | None]] = {}  # service → (version, incident) last sent
        self.subscribers: set[asyncio.Queue] = set()
        self._dropped: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._unsubscribe = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for st in await asyncio.to_thread(self._read_all):
            self.known[st["service"]] = (st["version"], st.get("incident"))
        self._unsubscribe = propagation.subscribe(self._from_any_thread)
        self._tasks.append(asyncio.create_task(self._poll()))

    def close_followers(self) -> None:
        """End every open stream (thread-safe); used before a server shuts down so it does
        not wait for followers that would otherwise stay connected forever."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: [q.put_nowait(None) for q in list(self.subscribers)])

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        for q in list(self.subscribers):
            q.put_nowait(None)

    def _read_all(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [state_view(r) for r in s.execute(select(SwitchState)).scalars()]

    def _from_any_thread(self, change: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fanout, change)

    def _fanout(self, change: dict[str, Any]) -> None:
        # Same version again is news only when it adds the incident (switch.note_incident).
        key = (change["version"], change.get("incident"))
        known = self.known.get(change["service"], (0, None))
        if key[0] < known[0] or (key[0] == known[0] and (key[1] is None or key[1] == known[1])):
            return
        self.known[change["service"]] = key
        # Encode once for every follower: with a hundred followers, encoding per follower was
        # a measurable share of the time until the last one had the change.
        item = (change["service"], sse("state", change))
        for q in list(self.subscribers):
            try:
                q.put_nowait(item)
            except asyncio.QueueFull:
                # A follower this far behind is dropped; on reconnect it gets a fresh snapshot.
                self.subscribers.discard(q)
                self._dropped.add(q)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                for st in await asyncio.to_thread(self._read_all):
                    self._fanout(st)
            except Exception:
                log.warning("switch poll failed", exc_info=True)

    async def follow(self, visible: set[str] | None, services: set[str] | None) -> AsyncIterator[bytes]:
        """The byte stream for one follower. ``visible`` None means it may see everything."""
        q: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self.subscribers.add(q)

        def wanted(service: str) -> bool:
            return (visible is None or service in visible) and (not services or service in services)

        try:
            snapshot = await asyncio.to_thread(self._read_all)
            yield sse("hello", {"at": iso(self.db.clock.now()), "heartbeat_seconds": self.heartbeat_seconds,
                                "services": sum(1 for st in snapshot if wanted(st["service"]))})
            for st in snapshot:
                if wanted(st["service"]):
                    yield sse("state", st)
            while True:
                try:
                    # asyncio.timeout, unlike wait_for, does not wrap each get in a new task.
                    async with asyncio.timeout(self.heartbeat_seconds):
                        change = await q.get()
                except TimeoutError:
                    change = "heartbeat"
                if q in self._dropped and q.empty():
                    yield sse("overflow", {"at": iso(self.db.clock.now()), "reconnect": True})
                    return
                if change == "heartbeat":
                    yield sse("heartbeat", {"at": iso(self.db.clock.now())})
                    continue
                if change is None:
                    return
                service, payload = change
                if wanted(service):
                    yield payload
        finally:
            self.subscribers.discard(q)
            self._dropped.discard(q)
