"""Make the KV bucket agree with the database, and say so in the ledger.

The database is the truth. For every service the bucket must hold exactly the database's view
of its switch state; a key whose service the database does not know is removed. Each run that
finds a difference repairs it and appends one ``switch.reconciled`` ledger entry listing what
differed (service, what the bucket held, what the database holds), so an auditor can see that
the projection lagged and for how long. A run that finds nothing writes nothing.

Commands run on every replica while this runs, so a first pass only *finds* candidates; each is
then repaired on its own (``_repair``): read the key (its revision), then the database's current
state of that service, and write with compare-and-set on that revision. Reading the bucket
before the database matters: a command commits before it writes the bucket, so a database read
that follows a bucket read is never older than it — a write taken from it can never lower the
version. A lost compare-and-set (a command wrote meanwhile) means read both again. A key is
deleted only if the service is still absent at that moment (compare-and-set delete on the
revision read, then the database asked again: a service registered in between gets its state
written back at once).

Run by the leader every ``reconcile_seconds``, at once after a KV write failed on this replica,
and after every NATS reconnect (``replica.py``); ``fenghuo scale reconcile`` runs it by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import nats
import orjson
from sqlalchemy import select

from fenghuo.control.models import SwitchState
from fenghuo.control.switch import state_view
from fenghuo.ledger import store as ledger
from fenghuo.platform.db import Database
from fenghuo.scale.connection import NatsLink, switch_key

log = logging.getLogger(__name__)
ACTOR = "system:reconciler"
_MISSING = (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError)
_LOST_RACE = (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.BadRequestError, nats.js.errors.APIError)


async def _bucket_keys(nc, bucket: str) -> list[str]:
    """Every key with a message in the bucket's stream (deleted ones included: their marker is a
    message; ``kv.get`` tells them apart), from the stream's per-subject counts, a page at a time.

    Not nats-py's ``kv.keys()``: it ends its listing at the first "nothing pending" its watcher
    reports, which can come early (nats-io/nats.py #842, the open #995), so a listing could miss
    a key and leave a stray one in the bucket; seen here as a flaky reconciliation test under load.
    """
    stream, prefix = f"KV_{bucket}", f"$KV.{bucket}."
    keys: list[str] = []
    while True:
        ask = orjson.dumps({"subjects_filter": prefix + ">", "offset": len(keys)})
        info = orjson.loads((await nc.request(f"$JS.API.STREAM.INFO.{stream}", ask, timeout=10)).data)
        if "error" in info:
            raise RuntimeError(f"KV 桶 {bucket} 的键无法列出 / listing the keys of KV bucket {bucket}: {info['error']}")
        page = (info.get("state") or {}).get("subjects") or {}
        keys.extend(subject[len(prefix):] for subject in page)
        if not page or len(keys) >= int(info.get("total") or 0):
            return keys


async def _bucket_contents(nc, kv, bucket: str) -> dict[str, dict[str, Any]]:
    out = {}
    for k in await _bucket_keys(nc, bucket):
        try:
            e = await kv.get(k)
        except _MISSING:
            continue
        if e.value:
            out[k] = orjson.loads(e.value)
    return out


def _brief(view: dict | None) -> dict | None:
    return None if view is None else {"state": view.get("state"), "version": view.get("version")}


def differences(db: Database, link: NatsLink, kv=None, *, between: Callable[[], None] | None = None,
                ) -> tuple[list[dict[str, Any]], dict[str, dict], dict[str, dict]]:
    """Candidates only: the two reads are not one snapshot (``between`` runs between them, for
    tests that interleave a command there); ``reconcile`` re-checks each before repairing."""
    kv = kv or link.bucket()
    with db.reader() as s:
        truth = {switch_key(r.service_id): state_view(r) for r in s.execute(select(SwitchState)).scalars()}
    if between is not None:
        between()
    held = link.run(_bucket_contents(link.nc, kv, link.settings.bucket), timeout=60)
    diffs = []
    for key, view in truth.items():
        if held.get(key) != view:
            diffs.append({"service": view["service"], "kv": _brief(held.get(key)), "db": _brief(view)})
    for key in held.keys() - truth.keys():
        diffs.append({"service": held[key].get("service"), "kv": _brief(held[key]), "db": None, "key": key})
    return diffs, truth, held


def _db_view(db: Database, service: str | None) -> dict | None:
    if service is None:
        return None
    with db.reader() as s:
        row = s.get(SwitchState, service)
        return state_view(row) if row is not None else None


def _repair(db: Database, link: NatsLink, kv, key: str, service: str | None) -> dict | None:
    """Make ``key`` hold the database's current view of ``service``; the difference repaired, or
    None if there was none left (a command or another replica got there first)."""
    for _ in range(20):
        try:
            entry = link.run(kv.get(key), timeout=10)
        except _MISSING:
            entry = None
        held = orjson.loads(entry.value) if entry is not None and entry.value else None
        view = _db_view(db, service)  # after the bucket read: never older than what the bucket holds
        if held == view:
            return None
        try:
            if view is None:
                link.run(kv.delete(key, last=entry.revision), timeout=10)
                late = _db_view(db, service)  # registered while we deleted: write it back now
                if late is not None:
                    link.run(kv.create(key, orjson.dumps(late)), timeout=10)
                    return None
                return {"service": service, "kv": _brief(held), "db": None, "key": key}
            if held is not None and int(held.get("version", 0)) > int(view["version"]):
                # The bucket ahead of the database can only mean the database went back (a restore):
                # never lower a version guards may already enforce; an operator must look.
                log.error("KV holds %s v%s, the database only v%s: not lowered; check the database / KV 版本高于数据库，未回退",
                          service, held.get("version"), view["version"])
                return None
            data = orjson.dumps(view)
            link.run(kv.create(key, data) if entry is None else kv.update(key, data, last=entry.revision), timeout=10)
            return {"service": service, "kv": _brief(held), "db": _brief(view)}
        except _LOST_RACE as exc:
            log.debug("reconcile lost a compare-and-set on %s, reading again: %s", key, exc)
    raise RuntimeError(f"reconcile of {key} kept losing races / 对账反复冲突")


def reconcile(db: Database, link: NatsLink, kv=None, *, between: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Repair the bucket from the database; returns the differences repaired (empty: none)."""
    kv = kv or link.bucket()
    candidates, _, _ = differences(db, link, kv, between=between)
    repaired = []
    for d in candidates:
        done = _repair(db, link, kv, d.get("key") or switch_key(d["service"]), d["service"])
        if done is not None:
            repaired.append(done)
    if not repaired:
        return []
    with db.transaction() as s:
        ledger.append(s, db.clock, "switch.reconciled", "nats-kv", ACTOR, {"differences": repaired, "repaired": len(repaired)})
    log.warning("reconciled %d switch state(s) in NATS KV with the database / 已对账修复 %d 个开关状态", len(repaired), len(repaired))
    return repaired
