"""Review fixes in the counter (real NATS and PostgreSQL): a kept durable consumer must have
every setting we give one, and the replay budget bounds each take-over, not the process."""

from __future__ import annotations

import time

from nats.js import api

from fenghuo.scale import lease
from tests.scale.helpers import Replica, consumer_info, events, seed


def _wait_ready(r: Replica, timeout: float = 15.0) -> None:
    assert r.counter.ready.wait(timeout), "counter never ready"


def _replace_consumer(link, **changes) -> None:
    """Swap the durable consumer for one like ours but for ``changes`` (as an older version or
    an operator might have left it)."""
    s = link.settings
    cfg = consumer_info(link).config
    want = dict(durable_name=s.consumer, deliver_policy=cfg.deliver_policy, opt_start_seq=cfg.opt_start_seq,
                ack_policy=cfg.ack_policy, ack_wait=cfg.ack_wait, max_deliver=cfg.max_deliver,
                max_ack_pending=cfg.max_ack_pending, filter_subject=cfg.filter_subject, num_replicas=cfg.num_replicas)
    want.update(changes)

    async def go():
        await link.js.delete_consumer(s.stream, s.consumer)
        await link.js.add_consumer(s.stream, api.ConsumerConfig(**want))

    link.run(go())


def test_a_kept_consumer_has_all_our_settings(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    link = shared_link
    r = Replica(db, link)
    try:
        epoch = r.lead()
        r.ingest(events(3))
        r.wait_counted(3)
        assert consumer_info(link).config.ack_wait == 30.0

        r.counter.stop()  # unchanged: kept
        kept = r.counter.kept
        r.counter.start(epoch)
        _wait_ready(r)
        assert r.counter.kept == kept + 1

        # A changed ack_wait reaches the consumer (it used to be kept with the old one).
        r.counter.stop()
        link.settings.ack_wait_seconds = 12.0
        assert r.counter.settings.ack_wait_seconds == 12.0
        resets = r.counter.resets
        r.counter.start(epoch)
        _wait_ready(r)
        assert r.counter.resets == resets + 1 and consumer_info(link).config.ack_wait == 12.0

        # A consumer with a bounded max_deliver, or another deliver policy, is made again.
        for change, check in (
            ({"max_deliver": 5}, lambda c: c.max_deliver == -1),
            ({"deliver_policy": api.DeliverPolicy.NEW, "opt_start_seq": None}, lambda c: c.deliver_policy == api.DeliverPolicy.BY_START_SEQUENCE),
        ):
            r.counter.stop()
            _replace_consumer(link, **change)
            assert not check(consumer_info(link).config)
            resets = r.counter.resets
            r.counter.start(epoch)
            _wait_ready(r)
            assert r.counter.resets == resets + 1 and check(consumer_info(link).config), change

        r.ingest(events(2))  # and counting goes on from the cursor
        r.wait_counted(5)
        assert r.counter.counted == 5
    finally:
        r.counter.stop()


def test_the_replay_budget_is_per_take_over(pg, shared_link):
    """Review: ``rebuilt`` counted replays for the life of the process, so once take-overs added
    up to ``rebuild_max`` a later take-over replayed nothing and still set ``ready``."""
    db = pg.make()
    db.upgrade()
    seed(db)
    a = Replica(db, shared_link, "replica-a")
    b = Replica(db, shared_link, "replica-b")
    b.counter.rebuild_max = 5
    try:
        a.ingest(events(5))
        a.lead()
        a.wait_counted(5)
        a.counter.stop()
        lease.release(db, "leader", "replica-a")

        b.ingest(events(3))
        b.lead()
        b.wait_counted(3)
        assert b.counter.rebuilt == 5 and b.calls() == 8  # a's 5 replayed: the budget is spent
        b.counter.stop()
        lease.release(db, "leader", "replica-b")

        a.ingest(events(4))
        a.lead()
        a.wait_counted(9)
        a.counter.stop()
        lease.release(db, "leader", "replica-a")

        b.lead()  # a later take-over: a's 4 new events must be replayed into b's windows
        _wait_ready(b)
        time.sleep(0.2)
        assert b.counter.rebuilt == 9 and b.calls() == 12
    finally:
        a.counter.stop()
        b.counter.stop()
