"""The switch hub's poll at fleet size (issue 19): it reads the states of the services the
ledger named since its last look, not every state, and a light resync of (service, version,
incident) catches a change that no ledger entry names."""

from __future__ import annotations

from sqlalchemy import update

from fenghuo.control import services as registry
from fenghuo.control import switch
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
