"""The acknowledgements of a process's followers leave together (guard.follow._AckSender): 25
instances following one control plane acknowledge a change in a few batch requests, not 25
POSTs, and every one of them is booked (the enforcement answer says all 25 enforce it), each
with the time it began enforcing, not the time the batch left."""

from __future__ import annotations

import time

import httpx

from fenghuo.control import switch
from fenghuo.guard.follow import StreamFollower
from fenghuo.guard.state import ServiceInfo, SwitchCache
from fenghuo.platform.roles import local_actor


def _all_enforce(http, version, n):
    e = http.get("/api/v1/services/open-chat/enforcement").json()
    return e if e["all_enforce"] and e["version"] == version and e["instances"] == n else None


def test_twenty_five_followers_acknowledge_a_change_in_a_few_requests(control, token, cp_db):
    followers = [StreamFollower(SwitchCache(ServiceInfo("open-chat", "open", 60.0)), control.url, token, f"batch-{i:02d}",
                                ack_seconds=300) for i in range(25)]
    sender = followers[0]._sender
    assert all(f._sender is sender for f in followers)  # one per control plane and token in a process
    try:
        for f in followers:
            f.start()
        for f in followers:
            assert f.connected.wait(10)
        with httpx.Client(base_url=control.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            deadline = time.monotonic() + 10
            while not _all_enforce(http, 1, 25) and time.monotonic() < deadline:
                time.sleep(0.02)
            before = sender.requests
            view = switch.execute(cp_db, local_actor(), "open-chat", "throttle", "batch acks", rate=7)
            t0 = time.monotonic()
            while not (e := _all_enforce(http, view["version"], 25)) and time.monotonic() < t0 + 10:
                time.sleep(0.01)
        assert e, "not all 25 followers acknowledged the throttle"
        assert sender.requests - before <= 8, f"{sender.requests - before} requests for 25 acknowledgements"
        assert sum(f.acks_failed for f in followers) == 0
        # enforced_since is each instance's own time (before the batch waited), not the booking's
        assert all(i["enforced_since"] <= i["last_seen"] for i in e["live"])
    finally:
        for f in followers:
            f.stop()


def test_a_stopped_followers_queued_ack_is_not_sent(control, token):
    f = StreamFollower(SwitchCache(ServiceInfo("open-chat", "open", 60.0)), control.url, token, "gone", ack_seconds=300,
                       ack_gather=0.2)
    f.start()
    assert f.connected.wait(10)  # its first acknowledgement is queued, to leave 0.2 s later
    f.stop()
    time.sleep(0.4)
    with httpx.Client(base_url=control.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        assert http.get("/api/v1/instances", params={"service": "open-chat"}).json() == []
