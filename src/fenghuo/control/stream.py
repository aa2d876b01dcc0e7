"""Pushing switch changes to followers over server-sent events.

The hub hears committed changes from this process at once (``propagation``) and polls the
database for changes made elsewhere (the local CLI, another replica). The poll reads the
ledger's tail, not every state (issue 19: reading 10,000 states four times a second was most of
an idle server's CPU): every switch change appends a ledger entry whose subject is the service
in the same transaction, and entries commit in sequence order (the head row is locked), so the
states of the services named since the last sequence seen are the states that may have changed.
A light resync of (service, version, incident) catches a change made without an entry naming
its service. Reading every state's three columns is ~0.1-0.2 s of CPU at 100,000 services, so
every ``RESYNC_SECONDS`` the hub first reads one aggregate row (count, sum of versions, count of
incidents: ~13 ms there) and reads the states only when that differs from the aggregate taken
before the last full read, or ``FULL_RESYNC_SECONDS`` after it. Versions only rise, so a changed
version always changes the aggregate; what it can miss (an incident replaced by another on the
same version, a deleted service offset by another's rise) waits for the full read. It forwards a change
only if its version is newer than the last one sent for that service, so followers see each
version once and in order. A follower gets a snapshot of every state it may see on connect,
then changes, and a heartbeat so it can tell a live stream from a dead one.

Per-user measures (``control.user_measures``, CN-PO-09) travel the same way: a follower that
names its services gets a ``users`` event per service on connect (the measures in force, maybe
none), and again whenever the ledger tail shows a ``user.measure.*`` entry for that service.
Model versions (``control.model_versions``, CN-TC-18) likewise: a ``model`` event per named
service (the active version and the pending ones) on connect and on every ``model.*`` entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenghuo.control import model_versions, propagation, user_measures
from fenghuo.control.models import SwitchState
from fenghuo.control.switch import state_view
from fenghuo.ledger import store as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000
RESYNC_SECONDS = 10.0
FULL_RESYNC_SECONDS = 300.0
LEDGER_BATCH = 5000
CHUNK = 500


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
        self._seq = 0  # the last ledger sequence the poll has read
        self._users_changed: set[str] = set()  # services with a user.measure.* entry since the last poll
        self._models_changed: set[str] = set()  # services with a model.* entry since the last poll
        self._fingerprint: tuple | None = None  # the states' aggregate taken before the last full resync
        self._full_at = 0.0  # loop time of the last full resync

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._seq = await asyncio.to_thread(self._ledger_seq)  # before the states: nothing falls between
        self.known.update(await asyncio.to_thread(self._read_versions))
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

    def _ledger_seq(self) -> int:
        with self.db.reader() as s:
            return ledger.head(s)[0]

    def _states_of(self, s: Session, services: list[str]) -> list[dict[str, Any]]:
        return [state_view(r) for i in range(0, len(services), CHUNK)
                for r in s.execute(select(SwitchState).where(SwitchState.service_id.in_(services[i:i + CHUNK]))).scalars()]

    def _read_changed(self) -> list[dict[str, Any]]:
        """States of the services named by ledger entries after ``_seq`` (advances it)."""
        out: list[dict[str, Any]] = []
        with self.db.reader() as s:
            while True:
                rows = s.execute(select(LedgerEntry.seq, LedgerEntry.subject, LedgerEntry.kind).where(LedgerEntry.seq > self._seq)
                                 .order_by(LedgerEntry.seq).limit(LEDGER_BATCH)).all()
                if not rows:
                    return out
                self._seq = rows[-1][0]
                self._users_changed |= {subject for _, subject, kind in rows if kind.startswith("user.measure.")}
                self._models_changed |= {model_versions.service_of(subject) or subject for _, subject, kind in rows
                                         if kind.startswith("model.")}
                out += self._states_of(s, sorted({subject for _, subject, _k in rows}))
                if len(rows) < LEDGER_BATCH:
                    return out

    def _read_versions(self) -> dict[str, tuple[int, str | None]]:
        """(version, incident) of every state: three columns, no views (100,000 full views at
        start were most of a fleet server's resident memory)."""
        with self.db.reader() as s:
            return {sid: (version, incident) for sid, version, incident in
                    s.execute(select(SwitchState.service_id, SwitchState.version, SwitchState.incident_id))}

    def _read_fingerprint(self) -> tuple:
        """(count, sum of versions, count of incidents) of every state: one aggregate row."""
        with self.db.reader() as s:
            return tuple(s.execute(select(func.count(), func.coalesce(func.sum(SwitchState.version), 0),
                                          func.count(SwitchState.incident_id))).one())

    def _resync(self, now: float) -> list[dict[str, Any]]:
        """The resync tick: the full read only when the aggregate moved since the last one, or
        ``FULL_RESYNC_SECONDS`` after it."""
        fingerprint = self._read_fingerprint()
        if fingerprint == self._fingerprint and now - self._full_at < FULL_RESYNC_SECONDS:
            return []
        self._fingerprint, self._full_at = fingerprint, now  # taken before the read: a change between is read again
        return self._read_differing()

    def _read_differing(self) -> list[dict[str, Any]]:
        """The light resync: one narrow query, full views only of states that differ from what
        was last sent."""
        differ = sorted(sid for sid, key in self._read_versions().items() if self.known.get(sid) != key)
        if not differ:
            return []
        with self.db.reader() as s:
            return self._states_of(s, differ)

    def _read_snapshot(self, services: set[str] | None) -> list[dict[str, Any]]:
        """A new follower's snapshot: only the services it names, when it names some."""
        if not services:
            return self._read_all()
        with self.db.reader() as s:
            return self._states_of(s, sorted(services))

    def _read_users(self, services: set[str]) -> dict[str, list[dict[str, Any]]]:
        with self.db.reader() as s:
            return user_measures.in_force(s, sorted(services), iso(self.db.clock.now()))

    def _read_models(self, services: set[str]) -> dict[str, dict[str, Any]]:
        with self.db.reader() as s:
            return model_versions.routing(s, sorted(services))

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
        self._push((change["service"], sse("state", change)))

    def _push(self, item: tuple[str, bytes]) -> None:
        for q in list(self.subscribers):
            try:
                q.put_nowait(item)
            except asyncio.QueueFull:
                # A follower this far behind is dropped; on reconnect it gets a fresh snapshot.
                self.subscribers.discard(q)
                self._dropped.add(q)

    async def _poll(self) -> None:
        resync_at = asyncio.get_running_loop().time() + RESYNC_SECONDS
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                states = await asyncio.to_thread(self._read_changed)
                now = asyncio.get_running_loop().time()
                if now >= resync_at:
                    resync_at = now + RESYNC_SECONDS
                    states += await asyncio.to_thread(self._resync, now)
                for st in states:
                    self._fanout(st)
                if self._users_changed:
                    changed, self._users_changed = self._users_changed, set()
                    lists = await asyncio.to_thread(self._read_users, changed)
                    for service in sorted(changed):
                        self._push((service, sse("users", {"service": service, "measures": lists.get(service, [])})))
                if self._models_changed:
                    changed, self._models_changed = self._models_changed, set()
                    for service, routing in sorted((await asyncio.to_thread(self._read_models, changed)).items()):
                        self._push((service, sse("model", routing)))
            except Exception:
                log.warning("switch poll failed", exc_info=True)

    async def follow(self, visible: set[str] | None, services: set[str] | None) -> AsyncIterator[bytes]:
        """The byte stream for one follower. ``visible`` None means it may see everything."""
        q: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self.subscribers.add(q)

        def wanted(service: str) -> bool:
            return (visible is None or service in visible) and (not services or service in services)

        try:
            snapshot = await asyncio.to_thread(self._read_snapshot, services)
            yield sse("hello", {"at": iso(self.db.clock.now()), "heartbeat_seconds": self.heartbeat_seconds,
                                "services": sum(1 for st in snapshot if wanted(st["service"]))})
            for st in snapshot:
                if wanted(st["service"]):
                    yield sse("state", st)
            if services:  # guards name their service: they get its user measures too (maybe none)
                lists = await asyncio.to_thread(self._read_users, {sid for sid in services if wanted(sid)})
                for sid in sorted(services):
                    if wanted(sid):
                        yield sse("users", {"service": sid, "measures": lists.get(sid, [])})
                routes = await asyncio.to_thread(self._read_models, {sid for sid in services if wanted(sid)})
                for sid in sorted(routes):
                    yield sse("model", routes[sid])
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
