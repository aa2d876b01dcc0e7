"""Switch states into the JetStream KV bucket, right after the database commits them.

Order and why: the database is the truth (the command, its ledger entry and the new state are
one transaction); the bucket is a projection of it that guards watch. ``control.propagation``
calls :meth:`KvPublisher.on_change` after the commit, in the thread that ran the command, so the
command answers only once the bucket holds the new state or the write has failed. When the
write fails (NATS down, timeout) the command still stands — refusing it would not undo the
commit — the publisher records the failure, and reconciliation (``reconcile.py``) writes the
missing state as soon as NATS answers and records the repair in the ledger.

Writes are compare-and-set on the key's revision and never replace a higher version with a
lower one, so two replicas committing v5 and v6 of a service in quick succession cannot leave
v5 in the bucket whatever order their writes arrive in.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import nats
import orjson

from fenghuo.control import propagation
from fenghuo.scale.connection import NatsLink, switch_key

log = logging.getLogger(__name__)
_MISSING = (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError)


async def put_state(kv, view: dict[str, Any], *, known: dict | None = None) -> bool:
    """Write ``view`` unless the bucket already holds its version or a newer one (except a same
    version that now names its incident). True if written. ``known`` remembers the revision
    and version this process last wrote per key: the common case (nobody else wrote since) is
    then one round trip, a compare-and-set on that revision, instead of a read and a write."""
    key = switch_key(view["service"])
    data = orjson.dumps(view)
    if known is not None and key in known and known[key][1] < int(view["version"]):
        try:
            known[key] = (await kv.update(key, data, last=known[key][0]), int(view["version"]))
            return True
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.BadRequestError, nats.js.errors.APIError):
            pass  # someone else wrote: read, then decide
    for _ in range(10):
        try:
            entry = await kv.get(key)
        except _MISSING:
            entry = None
        if entry is not None and entry.value:
            held = orjson.loads(entry.value)
            hv, v = int(held.get("version", 0)), int(view["version"])
            # A same-version view may only add the incident its command was linked to after the
            # fact (control.switch.note_incident); guards take exactly that (SwitchCache.apply).
            adds_incident = hv == v and view.get("incident") is not None and held.get("incident") != view.get("incident")
            if hv >= v and not adds_incident:
                return False
        try:
            if entry is None:
                rev = await kv.create(key, data)
            else:
                rev = await kv.update(key, data, last=entry.revision)
            if known is not None:
                known[key] = (rev, int(view["version"]))
            return True
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.BadRequestError, nats.js.errors.APIError) as exc:
            log.debug("kv compare-and-set lost a race, retrying: %s", exc)
    raise RuntimeError(f"kv write for {key} kept losing races")


class KvPublisher:
    """Every replica's writer of the states it commits. A write that fails is retried by this
    replica itself (``_retry``), not left to the leader's next reconciliation (which could be
    30 s away): each retry re-reads the service's *current* state in the database and writes it
    with ``put_state`` (never lowering a version), so a retry can never put back a state that
    a later command replaced."""

    def __init__(self, link: NatsLink, timeout: float = 2.0, db=None, retry_seconds: float = 0.5) -> None:
        self.link = link
        self.timeout = timeout
        self.db = db  # to re-read the current state on retry; without it the failed view itself is retried
        self.retry_seconds = retry_seconds
        self.kv = link.bucket()
        self.written = 0
        self.failed = 0
        self.retried = 0  # failed writes completed later by this replica's own retry
        self.dirty = threading.Event()  # a write failed: the leader reconciles soon, too
        self._unsubscribe = None
        self._known: dict[str, tuple[int, int]] = {}  # key → (revision, version) this process wrote last
        self._pending: dict[str, dict[str, Any]] = {}  # service → the view whose write failed
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self) -> KvPublisher:
        self._unsubscribe = propagation.subscribe(self.on_change)
        return self

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def on_change(self, change: dict[str, Any]) -> None:
        try:
            if self.link.run(put_state(self.kv, change, known=self._known), timeout=self.timeout):
                self.written += 1
        except Exception as exc:  # noqa: BLE001 - the DB holds it; the retry (and reconciliation) repair the bucket
            self.failed += 1
            self.dirty.set()
            with self._lock:
                self._pending[change["service"]] = change
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._retry, daemon=True, name="fenghuo-kv-retry")
                    self._thread.start()
            self._wake.set()
            log.warning("switch state %s v%s not written to NATS KV (%s); retrying / 开关状态未写入 KV，正在重试",
                        change.get("service"), change.get("version"), exc)

    def _current(self, service: str, failed: dict[str, Any]) -> dict[str, Any] | None:
        if self.db is None:
            return failed
        from fenghuo.control.models import SwitchState
        from fenghuo.control.switch import state_view

        with self.db.reader() as s:
            row = s.get(SwitchState, service)
            return state_view(row) if row is not None else None

    def _retry(self) -> None:
        wait = self.retry_seconds
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            with self._lock:
                todo = dict(self._pending)
                if not todo:
                    self._thread = None  # under the lock: a failure from now on starts a new thread
                    return
            ok = True
            for service, failed in todo.items():
                try:
                    view = self._current(service, failed)
                    if view is not None:
                        self.link.run(put_state(self.kv, view, known=self._known), timeout=self.timeout)
                except Exception as exc:  # noqa: BLE001 - NATS or the database still away: later
                    ok = False
                    log.debug("KV retry for %s failed: %s", service, exc)
                    continue
                with self._lock:
                    if self._pending.get(service) is failed:  # not failed again meanwhile
                        del self._pending[service]
                self.retried += 1
                log.warning("switch state of %s written to NATS KV on retry / 重试后已写入 KV", service)
            wait = self.retry_seconds if ok else min(wait * 2, 5.0)
