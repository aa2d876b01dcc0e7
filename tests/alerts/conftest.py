"""Fixtures for rule-semantics tests: a ManualClock database, monitoring and an alert engine
driven by hand (no background threads), plus a local HTTP receiver that records requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fenghuo.alerts.config import AlertsConfig
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.rules import parse_rules
from fenghuo.monitor.ingest import Monitor
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.db import Database
from tests.monitor.helpers import ADMIN, seed


class Receiver:
    """A real HTTP server on a free port that records every request and answers with
    ``self.reply`` (status, JSON body)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply = (200, {"errcode": 0, "errmsg": "ok"})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": body, "json": json.loads(body) if body else None})
                status, reply = outer.reply
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def db(tmp_path, clock):
    d = Database(str(tmp_path / "fenghuo.db"), clock=clock)
    d.upgrade()
    seed(d)
    yield d
    d.dispose()


class Rig:
    """Monitoring + alerting in one process, advanced by hand."""

    def __init__(self, db, clock, rules_yaml: str, channels=(), **cfg) -> None:
        self.db, self.clock = db, clock
        self.monitor = Monitor(db)
        self.monitor.start()
        self.config = AlertsConfig(rules=parse_rules(rules_yaml), channels=list(channels), **cfg)
        self.engine = AlertEngine(self.monitor, self.config)
        self.engine.start(background=False)

    def post(self, events) -> dict:
        return self.monitor.ingest_body(json.dumps(events).encode(), ADMIN).to_dict()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.engine.tick()

    def restart(self) -> Rig:
        return Rig.__new__(Rig)._again(self)

    def _again(self, old: Rig) -> Rig:
        self.db, self.clock, self.config = old.db, old.clock, old.config
        self.monitor = Monitor(self.db)
        self.monitor.start()
        self.engine = AlertEngine(self.monitor, self.config)
        self.engine.start(background=False)
        return self


@pytest.fixture
def rig(db, clock):
    made = []

    def make(rules_yaml: str, channels=(), **cfg) -> Rig:
        r = Rig(db, clock, rules_yaml, channels, **cfg)
        made.append(r)
        return r

    yield make
    for r in made:
        r.engine.notifier._client.close()
