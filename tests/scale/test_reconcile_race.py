"""Reconciliation racing commands and registrations (real PostgreSQL and NATS), interleaved
deterministically: a command or a registration runs between reconciliation's database read and
its bucket read. Also: a replica retries its own failed KV writes without the leader."""

from __future__ import annotations

import time

import orjson
import pytest
from sqlalchemy import select

from fenghuo.control import services as registry
from fenghuo.control import switch
from fenghuo.control.models import SwitchState
from fenghuo.control.switch import state_view
from fenghuo.ledger import service as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.registry.spec import parse_registration
from fenghuo.scale.connection import NatsLink, NatsSettings, switch_key
from fenghuo.scale.kvswitch import KvPublisher, put_state
from fenghuo.scale.reconcile import differences, reconcile
from tests.scale.conftest import drop
from tests.scale.helpers import ADMIN, seed

NEW_SERVICE = """
services:
  - {id: c-chat, name: C chat, provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}
"""


def _held(link, kv, service: str) -> dict | None:
    try:
        e = link.run(kv.get(switch_key(service)))
    except Exception:  # noqa: BLE001 - missing or deleted
        return None
    return orjson.loads(e.value) if e.value else None


def _reconciled(db) -> list[dict]:
    with db.reader() as s:
        return list(s.execute(select(LedgerEntry).where(LedgerEntry.kind == "switch.reconciled")).scalars())


@pytest.fixture
def synced(pg, shared_link):
    """A seeded database and the shared NATS bucket, reconciled once: (db, link, kv)."""
    db = pg.make()
    db.upgrade()
    seed(db)
    kv = shared_link.bucket()
    reconcile(db, shared_link, kv)
    return db, shared_link, kv


def test_a_command_between_the_reads_is_never_written_back_older(synced):
    db, link, kv = synced
    switch.execute(db, ADMIN, "a-chat", "throttle", "v2, its bucket write lost", rate=5)  # no publisher: the bucket lags
    assert _held(link, kv, "a-chat")["version"] == 1
    before = len(_reconciled(db))
    publisher = KvPublisher(link).attach()
    try:
        def command_between() -> None:  # commits v3 and writes the bucket after reconcile read the DB (v2)
            view = switch.execute(db, ADMIN, "a-chat", "pause", "v3 lands between the two reads")
            assert view["version"] == 3

        repaired = reconcile(db, link, kv, between=command_between)
        held = _held(link, kv, "a-chat")
        assert (held["state"], held["version"]) == ("paused", 3)  # v2 (what it read first) was not written over v3
        assert repaired == [] and len(_reconciled(db)) == before  # nothing was left to repair: no ledger entry
        assert differences(db, link, kv)[0] == []
    finally:
        publisher.detach()


def test_a_service_registered_between_the_reads_keeps_its_key(synced):
    db, link, kv = synced

    def register_between() -> None:  # the database read missed it, the bucket read will see it
        registry.register(db, ADMIN, parse_registration(NEW_SERVICE))
        with db.reader() as s:
            view = state_view(s.get(SwitchState, "c-chat"))
        assert link.run(put_state(kv, view)) is True

    before = len(_reconciled(db))
    assert reconcile(db, link, kv, between=register_between) == []
    assert _held(link, kv, "c-chat")["version"] == 1  # not deleted as a ghost
    assert len(_reconciled(db)) == before

    # a real ghost (no such service) is still removed, and recorded
    link.run(kv.put(switch_key("ghost"), orjson.dumps({"service": "ghost", "state": "running", "version": 4})))
    assert [d["service"] for d in reconcile(db, link, kv)] == ["ghost"]
    assert _held(link, kv, "ghost") is None and len(_reconciled(db)) == before + 1
    assert ledger.verify(db).ok


def test_reconcile_never_lowers_a_version(synced):
    """A bucket ahead of the database (the database restored from an older backup) is not
    lowered: guards may already enforce the newer state."""
    db, link, kv = synced
    ahead = {**_held(link, kv, "a-chat"), "state": "paused", "version": 7}
    link.run(kv.put(switch_key("a-chat"), orjson.dumps(ahead)))
    reconcile(db, link, kv)
    assert _held(link, kv, "a-chat")["version"] == 7


def test_a_failed_write_is_retried_by_the_replica_itself(pg, own_nats, prefix):
    """NATS away for this publisher when a command commits; when NATS is back the publisher
    writes the database's current state itself — no reconciliation, no leader."""
    db = pg.make()
    db.upgrade()
    seed(db)
    link = NatsLink(NatsSettings(servers=[own_nats.url]).with_prefix(prefix)).connect()
    try:
        kv = link.bucket()
        reconcile(db, link, kv)
        publisher = KvPublisher(link, timeout=1.0, db=db, retry_seconds=0.2).attach()
        own_nats.kill()
        switch.execute(db, ADMIN, "a-chat", "throttle", "while NATS is down", rate=3)
        switch.execute(db, ADMIN, "a-chat", "pause", "still down")
        assert publisher.failed == 2 and publisher.pending == 1
        own_nats.start()
        deadline = time.monotonic() + 30
        while publisher.pending and time.monotonic() < deadline:
            time.sleep(0.1)
        assert publisher.pending == 0 and publisher.retried >= 1
        held = _held(link, publisher.kv, "a-chat")
        assert (held["state"], held["version"]) == ("paused", 3)  # the current state, not the first failed one
        assert differences(db, link)[0] == []
        publisher.detach()
    finally:
        drop(link)
