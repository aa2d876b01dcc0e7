"""Acknowledgements over NATS in batches (issue 19, propagation): a guard process's KV watchers
acknowledge a change in one message per service (``AckBatcher``), a replica books every item of
such a message (a bad one refuses only itself), and the book writes a change's
acknowledgements to PostgreSQL by itself within ~``burst_seconds`` — another replica's
enforcement answer shows them with no further message arriving."""

from __future__ import annotations

import time

import orjson

from fenghuo.control import switch
from fenghuo.control.instances import InstanceBook
from fenghuo.scale.acks import AckBatcher, AckListener, send_ack
from tests.scale.helpers import ADMIN, seed


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (got := pred()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return got


def test_a_batch_message_is_booked_item_by_item_and_written_soon(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    now = switch.execute(db, ADMIN, "a-chat", "throttle", "batch acks over NATS", rate=3)
    book = InstanceBook(db)  # the defaults a replica runs with: flush_seconds 0.5, burst_seconds 0.03
    listener = AckListener(shared_link, book).start()
    try:
        body = [{"instance": f"n-{i}", "service": "a-chat", "version": now["version"], "state": now["to"],
                 "enforced_at": "2026-12-05T04:00:00.000000Z"} for i in range(30)]
        body[5]["state"] = "dancing"  # refused alone
        send_ack(shared_link, body)
        other = InstanceBook(db)  # another replica: reads only what the first one wrote
        e = _wait(lambda: (x := other.enforcement(ADMIN, "a-chat", stale_seconds=86399))["instances"] == 29 and x)
        assert e and e["all_enforce"] and e["version"] == now["version"], e
        assert (listener.booked, listener.refused) == (29, 1)
        assert "n-5" not in {i["instance"] for i in e["live"]}
    finally:
        listener.stop()


def test_the_batcher_sends_one_message_per_service(shared_link):
    got: list[list] = []

    async def listen():
        async def cb(msg):
            got.append(orjson.loads(msg.data))
        return await shared_link.nc.subscribe(f"{shared_link.settings.acks_subject}.>", cb=cb)

    sub = shared_link.run(listen())
    try:
        batcher = AckBatcher(shared_link, gather=0.02)
        for i in range(25):
            batcher.add({"instance": f"p-{i}", "service": "a-chat", "version": 2, "state": "running"})
        batcher.add({"instance": "q-0", "service": "b-chat", "version": 1, "state": "running"})
        assert _wait(lambda: len(got) >= 2)
        time.sleep(0.1)
        assert batcher.sent == 2 and len(got) == 2
        by_service = {(m[0] if isinstance(m, list) else m)["service"]: m for m in got}
        assert [b["instance"] for b in by_service["a-chat"]] == [f"p-{i}" for i in range(25)]
        assert by_service["b-chat"]["instance"] == "q-0"  # alone: a plain body, as older replicas read it
    finally:
        shared_link.run(sub.unsubscribe())


def test_followers_of_a_service_in_a_process_share_one_watch(shared_link):
    from fenghuo.guard import kvfollow
    from fenghuo.guard.state import ServiceInfo, SwitchCache
    from fenghuo.scale.kvswitch import put_state

    kv = shared_link.bucket()
    shared_link.run(put_state(kv, {"service": "a-chat", "state": "running", "version": 1}))
    followers = [kvfollow.KvFollower(SwitchCache(ServiceInfo("a-chat", "open", 60.0)), shared_link, f"w-{i}", ack_seconds=300).start()
                 for i in range(5)]
    try:
        assert all(f.connected.wait(10) for f in followers)
        assert len({id(f._watch) for f in followers}) == 1 and len(followers[0]._watch.followers) == 5
        shared_link.run(put_state(kv, {"service": "a-chat", "state": "paused", "version": 2}))
        assert _wait(lambda: all(f.cache.lookup().version == 2 for f in followers))
        for f in followers[:3]:
            f.stop()
        shared_link.run(put_state(kv, {"service": "a-chat", "state": "throttled", "rate": 5, "version": 3}))
        assert _wait(lambda: all(f.cache.lookup().state == "throttled" for f in followers[3:]))
        assert all(f.cache.lookup().version == 2 for f in followers[:3])  # stopped ones no longer follow
        late = kvfollow.KvFollower(SwitchCache(ServiceInfo("a-chat", "open", 60.0)), shared_link, "w-late").start()
        assert late.connected.wait(10) and _wait(lambda: late.cache.lookup().version == 3)  # joins with the current value
        followers.append(late)
    finally:
        for f in followers[3:]:
            f.stop()
    assert (shared_link, "a-chat") not in kvfollow._watches


def test_a_replica_writing_last_does_not_put_back_an_older_version(pg):
    db = pg.make()
    db.upgrade()
    seed(db)
    a, b = InstanceBook(db, flush_seconds=3600), InstanceBook(db, flush_seconds=3600)
    body = {"instance": "r-1", "service": "a-chat", "state": "running"}
    a.ack(ADMIN, body | {"version": 5}, flush=False)  # replica A booked v5 ...
    b.ack(ADMIN, body | {"version": 6}, flush=False)  # ... replica B the newer v6
    b.flush()
    a.flush()  # A writes last
    rows = InstanceBook(db).page(ADMIN, service="a-chat", stale_seconds=86399).items
    assert [(r["instance"], r["version"]) for r in rows] == [("r-1", 6)]
