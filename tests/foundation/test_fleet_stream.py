"""The switch hub's poll at fleet size (issue 19): it reads the states of the services the
ledger named since its last look, not every state, and a light resync of (service, version,
incident) catches a change that no ledger entry names."""

from __future__ import annotations

from sqlalchemy import update

from fenghuo.control import services as registry
from fenghuo.control import stream, switch
from fenghuo.control.models import SwitchState
from fenghuo.control.stream import SwitchHub
from fenghuo.demo.fleet import fleet
from fenghuo.platform.roles import local_actor

ADMIN = local_actor()


def test_poll_reads_only_what_the_ledger_names(db_factory):
    db = db_factory()
    reg = fleet(120, provinces=1)
    registry.register(db, ADMIN, reg)
    hub = SwitchHub(db, heartbeat_seconds=5, poll_seconds=0.25)
    hub._seq = hub._ledger_seq()
    for st in hub._read_all():
        hub.known[st["service"]] = (st["version"], st.get("incident"))
    assert hub._read_changed() == [] and hub._read_differing() == []

    a, b = reg.services[3].id, reg.services[77].id
    switch.execute(db, ADMIN, a, "pause", "test")
    switch.execute(db, ADMIN, b, "throttle", "test", rate=5)
    changed = {st["service"]: st for st in hub._read_changed()}
    assert set(changed) == {a, b}
    assert changed[a]["state"] == "paused" and changed[b]["state"] == "throttled" and changed[b]["rate"] == 5
    assert hub._read_changed() == []  # the sequence moved on
    for st in changed.values():
        hub._fanout(st)

    c = reg.services[50].id  # a write that names nothing in the ledger: only the resync sees it
    with db.transaction() as s:
        s.execute(update(SwitchState).where(SwitchState.service_id == c).values(version=SwitchState.version + 1))
    assert hub._read_changed() == []
    assert [st["service"] for st in hub._read_differing()] == [c]


def test_resync_reads_the_states_only_when_their_aggregate_moved(db_factory):
    """The resync tick reads one aggregate row; the states only when it moved since the last
    full read (or FULL_RESYNC_SECONDS after it). A write that names nothing in the ledger moves
    it (versions only rise), and so does an incident noted on the same version."""
    db = db_factory()
    reg = fleet(60, provinces=1)
    registry.register(db, ADMIN, reg)
    hub = SwitchHub(db, heartbeat_seconds=5, poll_seconds=0.25)
    hub.known.update(hub._read_versions())
    calls = []
    full = hub._read_differing
    hub._read_differing = lambda: calls.append(1) or full()
    assert hub._resync(0.0) == [] and len(calls) == 1  # the first tick reads in full
    assert hub._resync(10.0) == [] and len(calls) == 1  # nothing moved: the aggregate alone

    c = reg.services[7].id
    with db.transaction() as s:
        s.execute(update(SwitchState).where(SwitchState.service_id == c).values(version=SwitchState.version + 1))
    got = hub._resync(20.0)
    assert [st["service"] for st in got] == [c] and len(calls) == 2
    for st in got:
        hub._fanout(st)
    d = reg.services[9].id
    with db.transaction() as s:
        s.execute(update(SwitchState).where(SwitchState.service_id == d).values(incident_id="inc-1"))
    got = hub._resync(30.0)
    assert [st["service"] for st in got] == [d] and len(calls) == 3
    for st in got:
        hub._fanout(st)
    assert hub._resync(40.0) == [] and len(calls) == 3
    # An incident replaced on the same version leaves the aggregate alone: the periodic full read
    # (FULL_RESYNC_SECONDS after the last) finds it.
    with db.transaction() as s:
        s.execute(update(SwitchState).where(SwitchState.service_id == d).values(incident_id="inc-2"))
    assert hub._resync(50.0) == [] and len(calls) == 3
    assert [st["service"] for st in hub._resync(30.0 + stream.FULL_RESYNC_SECONDS)] == [d] and len(calls) == 4
