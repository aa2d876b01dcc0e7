"""End to end, real time: recorded JADE v3 traffic through the replay upstream, judged on the
real answer text, posted to a running control plane. The red warning must fire within 1 s of the
first call at which its rule holds, and nothing may fire during the safe stretch."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from fenghuo.alerts import listeners
from fenghuo.alerts.config import AlertsConfig
from fenghuo.alerts.rules import parse_rules
from fenghuo.api.server import ServerThread
from fenghuo.evaluation.judges import ReferenceJudge
from fenghuo.platform.config import Settings
from fenghuo.platform.paths import shared_data_dir
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN

JADE = "traffic/jade_v3/jade_alignment_medium_zh.csv"
SAFE_CALLS = 40
RULE = """
rules:
  - {name: unsafe-answers-red, alert: unsafe-answers, services: {ids: [a-chat]}, indicator: output_violation_rate,
     window: 1m, threshold: {op: ">", value: 0.3}, for: 0s, min_samples: 20, level: red,
     description: {zh: 输出违规率超过 30%, en: output violation rate above 30%}}
  - {name: unsafe-answers-yellow, alert: unsafe-answers, services: {ids: [a-chat]}, indicator: output_violation_rate,
     window: 1m, threshold: {op: ">", value: 0.1}, for: 0s, min_samples: 20, level: yellow,
     description: {zh: 输出违规率超过 10%, en: output violation rate above 10%}}
"""


@pytest.fixture
def real_db(tmp_path):
    from fenghuo.platform.db import Database
    from tests.monitor.helpers import seed

    d = Database(str(tmp_path / "e2e.db"))  # the system clock: this test runs in real time
    d.upgrade()
    seed(d)
    yield d
    d.dispose()


@pytest.fixture
def jade():
    root = shared_data_dir()
    if root is None or not (root / JADE).exists():
        pytest.skip("shared data not present (set FENGHUO_DATA)")
    from fenghuo.replay.loader import load_answers

    return load_answers(root / JADE)


def test_red_within_one_second_of_the_condition_holding(real_db, jade):
    db = real_db
    from fenghuo.replay.app import Schedule, create_app
    from fenghuo.replay.server import BackgroundServer

    token = create_token(db, ADMIN, "guard", Role.system)
    seen: list[tuple[float, dict]] = []
    lock = threading.Lock()

    def listener(change):
        with lock:
            seen.append((time.monotonic(), change))

    unsubscribe = listeners.subscribe(listener)
    upstream = BackgroundServer(create_app(jade, Schedule(mode="safe", switch_at=SAFE_CALLS))).start()
    srv = ServerThread(db, Settings(checkpoint_seconds=0), alerts_config=AlertsConfig(rules=parse_rules(RULE)))
    judge = ReferenceJudge(jade)
    try:
        with srv, httpx.Client(timeout=10) as http:
            unsafe = total = 0
            holds_at = None
            for i, rec in enumerate(jade.records[:SAFE_CALLS + 30]):
                t0 = time.monotonic()
                r = http.post(upstream.url + "/v1/chat/completions",
                              json={"model": "m", "messages": [{"role": "user", "content": rec.question}]})
                answer = r.json()["choices"][0]["message"]["content"]
                latency = (time.monotonic() - t0) * 1000
                verdict = judge.vote(rec.question, answer).safe
                assert verdict is not None
                total += 1  # noqa: SIM113 - counts the answered calls, not the loop
                unsafe += not verdict
                event = {"id": str(uuid.uuid4()), "type": "call", "service": "a-chat", "instance": "guard-e2e",
                         "time": datetime.now(UTC).isoformat(), "state": "running", "state_version": 1,
                         "route": "primary", "status": "ok", "latency_ms": latency,
                         "output": {"blocked": not verdict, "categories": [] if verdict else ["unsafe"]}}
                if holds_at is None and total >= 20 and unsafe / total > 0.3:
                    holds_at = time.monotonic()  # the first call at which the red rule holds
                    hold_index = i
                resp = http.post(srv.url + "/api/v1/events", json=[event], headers={"Authorization": f"Bearer {token}"})
                assert resp.status_code == 200 and resp.json()["accepted"] == 1, resp.text
                if i == SAFE_CALLS - 1:
                    with lock:
                        assert seen == [], "a warning fired during the safe stretch"
                if holds_at is not None and time.monotonic() - holds_at > 1.5:
                    break
            assert holds_at is not None and hold_index >= SAFE_CALLS
            deadline = holds_at + 2
            while time.monotonic() < deadline:
                with lock:
                    if any(c["kind"] in ("firing", "escalated") and c["level"] == "red" for _, c in seen):
                        break
                time.sleep(0.01)
            with lock:
                red = [(t, c) for t, c in seen if c["kind"] in ("firing", "escalated") and c["level"] == "red"]
            assert red, f"no red warning; transitions: {[c['kind'] + ':' + c['level'] for _, c in seen]}"
            delay = red[0][0] - holds_at
            assert delay < 1.0, f"red after {delay:.3f} s"
            # and the warning is in the database as firing red
            w = http.get(srv.url + "/api/v1/warnings", params={"state": "firing"},
                         headers={"Authorization": f"Bearer {token}"}).json()
            assert [(x["alert"], x["level"]) for x in w] == [("unsafe-answers", "red")]
    finally:
        unsubscribe()
        upstream.stop()
