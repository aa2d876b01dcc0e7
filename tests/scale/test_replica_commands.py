"""Any replica accepts commands: two real ``fenghuo serve --db postgresql://… --bus nats://…``
replicas take concurrent commands for one service (two clients, each talking to its own
replica, each also resending some commands with their id through the other replica). The
database serialises them: versions 2…101 with no gap, each command applied exactly once, the
ledger verifies, and the KV bucket ends on the final version."""

from __future__ import annotations

import threading
import time

import httpx
import orjson
from sqlalchemy import select

from fenghuo.control.models import Command, SwitchState
from fenghuo.ledger import service as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from fenghuo.scale.connection import switch_key
from tests.scale.conftest import SHARED_NATS
from tests.scale.helpers import ADMIN, seed
from tests.scale.servers import Replica, replica_env

PER_CLIENT = 50


def test_two_replicas_take_concurrent_commands_for_one_service(pg, prefix, shared_link, tmp_path):
    db = pg.make()
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "ops", Role.admin)
    env = replica_env(tmp_path, prefix)
    a = Replica(pg.url, SHARED_NATS, env, tmp_path / "a.log")
    b = Replica(pg.url, SHARED_NATS, env, tmp_path / "b.log")
    answers: dict[str, dict] = {}
    replays: list[dict] = []
    errors: list[str] = []
    go = threading.Barrier(2)

    def client(name: str, mine: Replica, other: Replica) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            go.wait()
            for i in range(PER_CLIENT):
                body = {"id": f"{name}-{i}", "action": "throttle", "reason": f"{name} {i}", "rate": i % 50 + 1}
                r = c.post(f"{mine.url}/api/v1/services/a-chat/commands", json=body)
                if r.status_code != 200:
                    errors.append(f"{body['id']}: {r.status_code} {r.text[:200]}")
                    continue
                answers[body["id"]] = r.json()
                if i % 10 == 9:  # an answer the caller did not trust: the same command, the other replica
                    r = c.post(f"{other.url}/api/v1/services/a-chat/commands", json=body)
                    replays.append(r.json() if r.status_code == 200 else {"error": r.status_code})

    threads = [threading.Thread(target=client, args=("x", a, b)), threading.Thread(target=client, args=("y", b, a))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:5]
        assert len(answers) == 2 * PER_CLIENT and all(v["status"] == "applied" for v in answers.values())
        assert sorted(v["version"] for v in answers.values()) == list(range(2, 2 + 2 * PER_CLIENT))  # serial, no gap
        assert len(replays) == 2 * PER_CLIENT // 10
        assert all(r.get("replayed") is True and r["version"] == answers[r["command"]]["version"] for r in replays), replays[:3]

        with db.reader() as s:
            cmds = s.execute(select(Command).where(Command.service_id == "a-chat")).scalars().all()
            changes = [orjson.loads(e.payload) for e in s.execute(
                select(LedgerEntry).where(LedgerEntry.kind == "switch.changed", LedgerEntry.subject == "a-chat")
                .order_by(LedgerEntry.seq)).scalars()]
            st = s.get(SwitchState, "a-chat")
        assert sorted(c.id for c in cmds) == sorted(answers)  # none lost, none twice
        by_command = [c for c in changes if c.get("command")]
        assert [c["command"] for c in by_command] == sorted(answers, key=lambda k: answers[k]["version"])
        assert [c["version"] for c in by_command] == list(range(2, 2 + 2 * PER_CLIENT))  # in commit order
        assert st.version == 1 + 2 * PER_CLIENT
        assert ledger.verify(db).ok

        kv = shared_link.bucket()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            held = orjson.loads(shared_link.run(kv.get(switch_key("a-chat"))).value)
            if held["version"] == st.version:
                break
            time.sleep(0.1)
        assert (held["state"], held["version"]) == ("throttled", st.version)
    finally:
        a.stop()
        b.stop()
