"""PostgreSQL restarted (immediate shutdown, i.e. a crash) mid-run, on a cluster of our own:
every command in flight either completed with its ledger entry or was refused; a refused one
sent again with its id is applied once or answered as already applied; the ledger verifies;
after reconciliation the KV bucket and the database agree, and any repair it made is in the
ledger. A replica (lease keeper + counter) runs across the restart: it loses the lease while the
database is away, takes it again, and counts every event ingested meanwhile exactly once."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from fenghuo.control import switch
from fenghuo.control.models import Command, SwitchState
from fenghuo.ledger import service as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.db import Database
from fenghuo.scale.kvswitch import KvPublisher
from fenghuo.scale.lease import LeaseKeeper
from fenghuo.scale.reconcile import differences, reconcile
from tests.scale.helpers import ADMIN, Replica, events, seed


def test_postgres_restart_mid_run(own_pg, shared_link):
    db = Database(own_pg.url)
    db.upgrade()
    seed(db)
    link = shared_link
    publisher = KvPublisher(link, db=db).attach()
    reconcile(db, link)
    outcomes: dict[str, str] = {}
    stop = threading.Event()
    replica = Replica(db, link, holder="pg-chaos")
    gains: list[int] = []
    keeper = LeaseKeeper(db, "leader", ttl=2.0, holder_id=replica.holder,
                         on_gain=lambda e: (gains.append(e), replica.counter.start(e)), on_lose=replica.counter.stop).start()
    ingested = {"n": 0}

    def traffic() -> None:  # events through the replica's ingest (JetStream: no database on the path)
        while not stop.is_set():
            try:
                ingested["n"] += replica.ingest(events(20)).accepted
            except Exception:  # noqa: BLE001 - refused: not counted as sent
                pass
            stop.wait(0.05)

    def commands() -> None:
        i = 0
        while not stop.is_set():
            cid = f"c-{i}"
            try:
                switch.execute(db, ADMIN, "a-chat", "throttle", f"load {i}", command_id=cid, rate=i % 50 + 1)
                outcomes[cid] = "applied"
            except Exception:  # noqa: BLE001 - the database is down: the command is refused
                outcomes[cid] = "refused"
                time.sleep(0.05)
            i += 1

    deadline = time.monotonic() + 15
    while not replica.counter.ready.is_set():
        assert time.monotonic() < deadline, "the replica never started counting"
        time.sleep(0.05)
    t = threading.Thread(target=commands)
    feed = threading.Thread(target=traffic)
    t.start()
    feed.start()
    time.sleep(1.0)
    own_pg.stop("immediate")  # a crash: no checkpoint, recovery from WAL at start
    time.sleep(2.5)  # longer than the lease: the replica must give it up
    own_pg.start()
    time.sleep(1.0)
    stop.set()
    t.join(30)
    feed.join(30)
    applied = [c for c, o in outcomes.items() if o == "applied"]
    refused = [c for c, o in outcomes.items() if o == "refused"]
    assert applied and refused, (len(applied), len(refused))

    def ledger_commands() -> list[str]:
        with db.reader() as s:
            entries = s.execute(select(LedgerEntry).where(LedgerEntry.kind == "switch.changed", LedgerEntry.subject == "a-chat")).scalars()
            return [c for c in (_payload(e).get("command") for e in entries) if c]  # the registration has none

    in_ledger = ledger_commands()
    assert set(applied) <= set(in_ledger)  # every answered command has its ledger entry
    with db.reader() as s:
        rows = {c.id: c for c in s.execute(select(Command)).scalars()}
    for cid in refused:  # refused: either never written, or written whole (the answer was lost)
        assert (cid in rows) == (cid in in_ledger)
    for cid in refused:  # the caller sends it again with the same id
        n = int(cid.split("-")[1])
        view = switch.execute(db, ADMIN, "a-chat", "throttle", f"load {n}", command_id=cid, rate=n % 50 + 1)
        assert view["status"] == "applied"
    in_ledger = ledger_commands()
    assert sorted(in_ledger) == sorted(set(in_ledger)) and set(in_ledger) >= set(outcomes)  # each once
    with db.reader() as s:
        st = s.get(SwitchState, "a-chat")
    assert st.version == 1 + len(in_ledger)
    assert ledger.verify(db).ok
    repaired = reconcile(db, link)
    if repaired:  # a repair is recorded, with what differed
        with db.reader() as s:
            last = s.execute(select(LedgerEntry).where(LedgerEntry.kind == "switch.reconciled")
                             .order_by(LedgerEntry.seq.desc())).scalars().first()
        assert last is not None and _payload(last)["differences"] == repaired
    assert differences(db, link)[0] == []

    # the replica across the restart: lost the lease, took it again, counts each event once
    deadline = time.monotonic() + 30
    while replica.counter.counted < ingested["n"] and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert len(gains) >= 2, gains  # lease re-acquired after the restart
    assert keeper.leading and replica.counter.ready.is_set()
    assert replica.counter.counted == ingested["n"] and ingested["n"] > 0
    assert replica.calls() == ingested["n"]  # in the windows once each
    keeper.stop()
    replica.counter.stop()
    publisher.detach()
    db.dispose()


def _payload(entry) -> dict:
    import json

    return json.loads(entry.payload)
