"""Crash safety: a process killed with SIGKILL in the middle of a stream of commands leaves a
database whose ledger verifies and whose states match the ledger."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from fenghuo.control import switch
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from tests.foundation.fixtures import ADMIN, seed

WRITER = textwrap.dedent("""
    import itertools, sys
    from fenghuo.control import switch
    from fenghuo.platform.roles import local_actor
    from fenghuo.platform.db import Database
    db = Database(sys.argv[1], schema=sys.argv[2] or None)
    actor = local_actor()
    steps = [("throttle", {"rate": 5}), ("throttle", {"rate": 9}), ("restore", {}), ("degrade", {}), ("restore", {})]
    for i in itertools.count():
        for service in ("a-chat", "a-med"):
            action, kw = steps[i % len(steps)]
            switch.execute(db, actor, service, action, f"burst {i}", command_id=f"{service}-{i}", **kw)
""")


def test_sigkill_mid_stream_leaves_a_consistent_database(db_factory, tmp_path):
    db = db_factory()
    seed(db)
    url = os.environ["FENGHUO_TEST_PG"] if db_factory.kind == "pg" else str(tmp_path / "fenghuo.db")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, db_factory.schema or ""],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode())
            if switch.get_state(db, ADMIN, "a-med")["version"] > 40:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    st = ledger.verify(db)
    assert st.ok, st.problem
    with db.reader() as s:
        last: dict[str, dict] = {}
        for e in store.iter_entries(s):
            if e["kind"] == "switch.changed":
                last[e["subject"]] = json.loads(e["payload"])
    for service in ("a-chat", "a-med"):
        state = switch.get_state(db, ADMIN, service)
        assert (state["state"], state["version"]) == (last[service]["to"], last[service]["version"])
    assert last["a-med"]["version"] > 40
