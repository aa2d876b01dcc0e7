"""Make the KV bucket agree with the database, and say so in the ledger.

The database is the truth. For every service the bucket must hold exactly the database's view
of its switch state; a key whose service the database does not know is removed. Each run that
finds a difference repairs it and appends one ``switch.reconciled`` ledger entry listing what
differed (service, what the bucket held, what the database holds), so an auditor can see that
the projection lagged and for how long. A run that finds nothing writes nothing.

Run by the leader every ``reconcile_seconds``, at once after a KV write failed on this replica,
and after every NATS reconnect (``replica.py``); ``fenghuo scale reconcile`` runs it by hand.
"""

from __future__ import annotations

import logging
from typing import Any

import nats
import orjson
from sqlalchemy import select

from fenghuo.control.models import SwitchState
from fenghuo.control.switch import state_view
from fenghuo.ledger import store as ledger
from fenghuo.platform.db import Database
from fenghuo.scale.connection import NatsLink, switch_key
from fenghuo.scale.kvswitch import put_state

log = logging.getLogger(__name__)
ACTOR = "system:reconciler"


async def _bucket_contents(kv) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    try:
        keys = await kv.keys()
    except nats.js.errors.NoKeysError:
        return {}
    out = {}
    for k in keys:
        try:
            e = await kv.get(k)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            continue
        if e.value:
            out[k] = orjson.loads(e.value)
    return out


def differences(db: Database, link: NatsLink, kv=None) -> tuple[list[dict[str, Any]], dict[str, dict], dict[str, dict]]:  # noqa: ANN001
    kv = kv or link.bucket()
    with db.reader() as s:
        truth = {switch_key(r.service_id): state_view(r) for r in s.execute(select(SwitchState)).scalars()}
    held = link.run(_bucket_contents(kv), timeout=30)
    diffs = []
    for key, view in truth.items():
        if held.get(key) != view:
            h = held.get(key)
            diffs.append({"service": view["service"], "kv": None if h is None else {"state": h.get("state"), "version": h.get("version")},
                          "db": {"state": view["state"], "version": view["version"]}})
    for key in held.keys() - truth.keys():
        diffs.append({"service": held[key].get("service"), "kv": {"state": held[key].get("state"), "version": held[key].get("version")},
                      "db": None, "key": key})
    return diffs, truth, held


def reconcile(db: Database, link: NatsLink, kv=None) -> list[dict[str, Any]]:  # noqa: ANN001
    """Repair the bucket from the database; returns the differences found (empty: none)."""
    kv = kv or link.bucket()
    diffs, truth, held = differences(db, link, kv)
    if not diffs:
        return []
    for d in diffs:
        if d["db"] is None:
            link.run(kv.delete(d["key"]), timeout=10)
        else:
            link.run(put_state(kv, truth[switch_key(d["service"])], force=True), timeout=10)
    with db.transaction() as s:
        ledger.append(s, db.clock, "switch.reconciled", "nats-kv", ACTOR, {"differences": diffs, "repaired": len(diffs)})
    log.warning("reconciled %d switch state(s) in NATS KV with the database / 已对账修复 %d 个开关状态", len(diffs), len(diffs))
    return diffs
