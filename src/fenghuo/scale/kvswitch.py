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


async def put_state(kv, view: dict[str, Any], *, force: bool = False, known: dict | None = None) -> bool:  # noqa: ANN001
    """Write ``view`` unless the bucket already holds its version or a newer one (``force``:
    write unless it holds exactly this view). True if written. ``known`` remembers the revision
    and version this process last wrote per key: the common case (nobody else wrote since) is
    then one round trip, a compare-and-set on that revision, instead of a read and a write."""
    key = switch_key(view["service"])
    data = orjson.dumps(view)
    if known is not None and not force and key in known and known[key][1] < int(view["version"]):
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
            if (held == view) if force else (int(held.get("version", 0)) >= int(view["version"])):
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
    def __init__(self, link: NatsLink, timeout: float = 2.0) -> None:
        self.link = link
        self.timeout = timeout
        self.kv = link.bucket()
        self.written = 0
        self.failed = 0
        self.dirty = threading.Event()  # a write failed: reconcile soon
        self._unsubscribe = None
        self._known: dict[str, tuple[int, int]] = {}  # key → (revision, version) this process wrote last

    def attach(self) -> KvPublisher:
        self._unsubscribe = propagation.subscribe(self.on_change)
        return self

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def on_change(self, change: dict[str, Any]) -> None:
        try:
            if self.link.run(put_state(self.kv, change, known=self._known), timeout=self.timeout):
                self.written += 1
        except Exception as exc:  # noqa: BLE001 - the DB holds it; reconciliation repairs the bucket
            self.failed += 1
            self.dirty.set()
            log.warning("switch state %s v%s not written to NATS KV (%s); reconciliation will repair it / 开关状态未写入 KV，将由对账修复",
                        change.get("service"), change.get("version"), exc)
