"""The durable consumer: explicit acknowledgements after recording, kept across binds when it
handed out nothing past the cursor, recreated at ``cursor + 1`` when it did (real NATS and
PostgreSQL)."""

from __future__ import annotations

import time

from nats.js import api

from tests.scale.helpers import Replica, consumer_info, events, seed


def test_explicit_acks_and_a_durable_consumer_kept_across_binds(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    link = shared_link
    r = Replica(db, link)
    try:
        epoch = r.lead()
        r.ingest(events(10))
        r.ingest(events(10))
        r.wait_counted(20)
        info = consumer_info(link)
        assert info.config.ack_policy == api.AckPolicy.EXPLICIT
        deadline = time.monotonic() + 10
        while (consumer_info(link).num_ack_pending or consumer_info(link).ack_floor.stream_seq != r.counter.cursor) and time.monotonic() < deadline:
            time.sleep(0.05)
        info = consumer_info(link)
        assert info.num_ack_pending == 0 and info.ack_floor.stream_seq == r.counter.cursor == 2  # every message acknowledged
        created = info.created

        r.counter.stop()  # a restart of the counter (same lease): the consumer stays as it is
        # A pull request the stopped counter left at the server (its 0.5 s fetch) would still take
        # the next events and so, rightly, make the next bind recreate the consumer (seen on a
        # loaded machine): let it expire first, so this part tests the restart that handed out nothing.
        deadline = time.monotonic() + 5
        while consumer_info(link).num_waiting and time.monotonic() < deadline:
            time.sleep(0.05)
        r.ingest(events(5))
        r.counter.start(epoch)
        r.wait_counted(25)
        assert consumer_info(link).created == created and r.counter.kept >= 1

        # Something handed out past the cursor and never recorded (a leader that died after a
        # fetch): the consumer is made again at cursor + 1 rather than wait ack_wait (30 s).
        r.counter.stop()
        r.ingest(events(4))

        async def grab():
            sub = await link.js.pull_subscribe_bind(link.settings.consumer, stream=link.settings.stream)
            msgs = await sub.fetch(1, timeout=5)
            await sub.unsubscribe()
            return msgs

        assert len(link.run(grab())) == 1  # delivered, not acknowledged, not recorded
        assert consumer_info(link).delivered.stream_seq > r.counter.cursor
        before = r.counter.resets
        r.counter.start(epoch)
        r.wait_counted(29, timeout=10)  # well inside ack_wait
        assert r.counter.counted == 29 and r.counter.resets == before + 1 and consumer_info(link).created != created
    finally:
        r.counter.stop()
