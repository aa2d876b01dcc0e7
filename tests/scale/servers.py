"""Control-plane replicas as real processes: ``fenghuo serve --db postgresql://… --bus nats://…``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.scale.conftest import free_port

RULES = """
rules:
  - {name: viol-red, services: {ids: [a-chat]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0, min_samples: 10, level: red, description: red}
"""

PLAN = """
plan: scale-test
version: "1"
title: {zh: "多副本测试预案", en: "Replica test plan"}
applies_to: {services: [a-chat]}
owner: 值班负责人 / on-call lead
text:
  zh: "红色预警先限流并开事件，4 秒后仍在则暂停运行。"
  en: "Red: throttle and open an incident at once; pause if still firing after 4 seconds."
triggers:
  - id: red
    when: {level: red}
    actions:
      - {id: throttle, do: throttle, rate: 5, approval: auto}
      - {id: incident, do: open_incident, grade: 特别重大}
  - id: red-held
    when: {level: red, for: 4s}
    actions:
      - {id: pause, do: pause, approval: auto}
"""


def replica_env(tmp: Path, prefix: str, **extra: str) -> dict[str, str]:
    (tmp / "plans").mkdir(exist_ok=True)
    (tmp / "plans" / "scale.yaml").write_text(PLAN, encoding="utf-8")
    (tmp / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp / "alerts.yaml").write_text('{"packs": "none", "rules": ["rules.yaml"], "channels": []}', encoding="utf-8")
    return {**os.environ, "FENGHUO_NATS_PREFIX": prefix, "FENGHUO_ALERTS": str(tmp / "alerts.yaml"),
            "FENGHUO_PLANS": str(tmp / "plans"), "FENGHUO_LEASE_SECONDS": "2", "FENGHUO_RECONCILE_SECONDS": "1",
            "FENGHUO_HOME": str(tmp / "home"), **extra}


class Replica:
    def __init__(self, db_url: str, bus: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "fenghuo.cli", "--db", db_url, "serve", "--port", str(self.port),
                                     "--bus", bus, "--checkpoint-every", "0", "--heartbeat", "0.5"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=open(log, "ab"))  # noqa: SIM115
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("replica exited: " + log.read_text()[-3000:])
            try:
                if httpx.get(self.url + "/api/v1/warnings", timeout=1).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("replica did not start: " + log.read_text()[-3000:])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
