"""Two control-plane replicas on one PostgreSQL and one NATS: a red warning triggers its plan
exactly once, and SIGKILLing the replica that is executing it mid-plan lets the other finish it
with no step repeated or skipped."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from fenghuo.control.models import Command, SwitchState
from fenghuo.ledger import service as ledger
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from fenghuo.response.models import PlanActionRow
from fenghuo.scale import lease
from tests.monitor.helpers import call
from tests.scale.conftest import SHARED_NATS
from tests.scale.helpers import ADMIN, seed
from tests.scale.servers import Replica, replica_env


def _wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _rows(db) -> list[PlanActionRow]:
    with db.reader() as s:
        return list(s.execute(select(PlanActionRow).order_by(PlanActionRow.created_at)).scalars())


def test_plan_runs_once_and_survives_killing_the_executing_replica(pg, prefix, shared_link, tmp_path):
    db = pg.make()
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "guard", Role.system)
    env = replica_env(tmp_path, prefix)
    a = Replica(pg.url, SHARED_NATS, env, tmp_path / "a.log")
    _wait(lambda: lease.holder(db, "leader"), 15, "a leader")
    b = Replica(pg.url, SHARED_NATS, env, tmp_path / "b.log")
    replicas = {a.pid: a, b.pid: b}
    stop = threading.Event()
    sent = []

    def traffic() -> None:  # a guard's unsafe answers, spread over both replicas, until the end
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=5) as client:
            i = 0
            while not stop.is_set():
                target = (a, b)[i % 2]
                batch = [call("a-chat", datetime.now(UTC), unsafe=True, id=f"u-{i}-{k}") for k in range(10)]
                try:
                    if target.proc.poll() is None and client.post(target.url + "/api/v1/events", json=batch).status_code == 200:
                        sent.append(len(batch))
                except httpx.HTTPError:
                    pass
                i += 1
                stop.wait(0.2)

    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    try:
        first = _wait(lambda: [r for r in _rows(db) if r.action_id == "throttle"], 30, "the plan's first step")
        leader = lease.holder(db, "leader")
        pid = int(leader["holder"].split("-")[-2])
        victim = replicas[pid]
        victim.kill()  # mid-plan: the pause step is due 4 s after the warning fired
        survivor = b if victim is a else a
        done = _wait(lambda: [r for r in _rows(db) if r.action_id == "pause"], 30, "the plan's last step on the survivor")
        time.sleep(1.5)  # a few more ticks: nothing may be repeated
        rows = _rows(db)
        assert sorted(r.action_id for r in rows) == ["incident", "pause", "throttle"]  # each once, none skipped
        assert {r.warning_id for r in rows} == {first[0].warning_id}
        assert done[0].status == "done" and first[0].status == "done"
        with db.reader() as s:
            plan_cmds = s.execute(select(Command).where(Command.actor == "system:plan-executor")).scalars().all()
            st = s.get(SwitchState, "a-chat")
        assert sorted(c.action for c in plan_cmds) == ["pause", "throttle"]
        assert (st.state, st.version) == ("paused", 3)
        now = lease.holder(db, "leader")
        assert int(now["holder"].split("-")[-2]) == survivor.pid and now["epoch"] >= 2
        r = httpx.get(survivor.url + "/api/v1/warnings", params={"state": "open"}, headers={"Authorization": f"Bearer {token}"})
        assert [(w["alert"], w["level"]) for w in r.json()] == [("viol-red", "red")]  # one warning, not one per replica
        assert ledger.verify(db).ok
    finally:
        stop.set()
        t.join(5)
        a.stop()
        b.stop()
