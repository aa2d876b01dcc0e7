"""The embedded guard's pollers read the database only when something was committed to it
(guard.dbwatch): a poll that would find nothing new is skipped, yet every change is seen and the
lease stays renewed."""

from __future__ import annotations

import time

from fenghuo.control import switch, user_measures
from fenghuo.guard import dbwatch
from fenghuo.guard.core import Guard
from fenghuo.guard.dbwatch import DataVersion, Gate
from fenghuo.platform.roles import local_actor

from .helpers import wait_for


def test_data_version_moves_with_commits_of_other_connections(cp_db):
    watch = DataVersion(cp_db)
    try:
        v = watch.read()
        assert v is not None and watch.read() == v
        user_measures.apply(cp_db, local_actor(), "open-chat", "zoe", "warn", "test")
        assert watch.read() != v
    finally:
        watch.close()
    assert watch.read() is None  # closed: every poll reads again


def test_gate_skips_until_a_commit_or_the_full_read_interval(cp_db, monkeypatch):
    watch = DataVersion(cp_db)
    gate = watch.gate()
    try:
        due, v = gate.due()
        assert due  # never read yet
        gate.done(v)
        assert gate.due()[0] is False
        user_measures.apply(cp_db, local_actor(), "open-chat", "yan", "warn", "test")
        due, v = gate.due()
        assert due
        gate.done(v)
        assert gate.due()[0] is False
        monkeypatch.setattr(dbwatch, "FULL_EVERY", 0.0)  # a full read at least every FULL_EVERY seconds
        assert gate.due()[0] is True
    finally:
        watch.close()


def test_no_version_to_read_means_every_poll_reads():
    class Postgres:
        url, is_sqlite = "postgresql+psycopg://h/db", False

    watch = DataVersion(Postgres())
    assert watch.read() is None
    gate = Gate(watch)
    gate.done(None)
    assert gate.due() == (True, None)
    assert Gate(None).due() == (True, None)


def test_embedded_guard_skips_idle_polls_and_still_follows(cp_db):
    g = Guard("open-chat", db=cp_db, checks=None, judge=None, sink=None, spool_dir=False, user_poll_seconds=0.05, lease=1.0)
    try:
        assert g.wait_connected(5)
        g.follower.poll_seconds = 0.05
        assert wait_for(lambda: g.user_follower.skipped >= 5 and g.model_follower.skipped >= 5, timeout=5)
        polls = g.user_follower.polls
        time.sleep(1.5)  # longer than the lease: the skipped polls renew it (the database answered)
        assert not g.state().failsafe and g.state().state == "running"
        assert g.user_follower.polls - polls <= 2  # one full read per FULL_EVERY at most (and none for a commit)
        user_measures.apply(cp_db, local_actor(), "open-chat", "xia", "suspend", "test")
        assert wait_for(lambda: "xia" in g.users.users, timeout=3)
        g.follower._unsubscribe()  # changes committed in this process are pushed: hear this one by polling only
        g.follower._unsubscribe = None
        switch.execute(cp_db, local_actor(), "open-chat", "pause", "test")
        assert wait_for(lambda: g.state().state == "paused", timeout=3)
        # Acknowledged through the follower's one InstanceBook: the first ack and this change's.
        assert wait_for(lambda: _instance(cp_db, g.instance) == ("paused", g.state().version), timeout=3)
    finally:
        g.close(timeout=1)


def _instance(db, instance: str):
    from fenghuo.control.instance_models import GuardInstance

    with db.reader() as s:
        row = s.get(GuardInstance, instance)
        return (row.state, row.version) if row is not None else None
