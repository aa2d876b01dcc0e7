"""`fenghuo gateway --workers N` as real processes: connections spread over the workers, each
is its own guard instance, a killed worker is started again, SIGTERM stops them all, and a
worker that cannot start makes the gateway give up instead of restarting it forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fenghuo.control import services as registry
from fenghuo.platform.db import open_database
from fenghuo.platform.roles import local_actor
from fenghuo.platform.serving import free_port
from fenghuo.registry.spec import parse_registration

from .helpers import REGISTRY

pytestmark = pytest.mark.skipif(not hasattr(__import__("socket"), "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
FENGHUO = str(Path(sys.executable).with_name("fenghuo"))


def start(tmp_path: Path, upstream_url: str, service: str = "open-chat", workers: int = 2) -> tuple[subprocess.Popen, str]:
    db = tmp_path / "gw.db"
    if not db.exists():
        d = open_database(str(db))
        registry.register(d, local_actor(), parse_registration(REGISTRY))
        d.dispose()
    port = free_port()
    env = dict(os.environ, FENGHUO_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen([FENGHUO, "--db", str(db), "gateway", "--service", service, "--upstream", upstream_url, "--port", str(port),
                             "--workers", str(workers), "--checks", "none", "--instance", "gw"],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gw.err", "w"))  # noqa: SIM115 - the child holds it
    return proc, f"http://127.0.0.1:{port}"


def health(url: str) -> dict | None:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).json()  # a new connection each time
    except httpx.HTTPError:
        return None


def workers_seen(url: str, tries: int = 80) -> dict[int, str]:
    seen: dict[int, str] = {}
    for _ in range(tries):
        h = health(url)
        if h:
            seen[h["pid"]] = h["instance"]
    return seen


def wait(pred, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    return pred()


def test_workers_share_the_port_restart_and_stop(tmp_path, upstream):
    proc, url = start(tmp_path, upstream.url)
    try:
        seen = wait(lambda: s if len(s := workers_seen(url)) == 2 else None)
        assert seen and sorted(seen.values()) == ["gw-w1", "gw-w2"], seen  # two processes, two instances
        for _ in range(6):
            r = httpx.post(f"{url}/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "你好"}]},
                           timeout=10)
            assert r.status_code == 200 and r.headers["x-fenghuo-instance"] in ("gw-w1", "gw-w2")

        victim = next(pid for pid, inst in seen.items() if inst == "gw-w1")
        os.kill(victim, signal.SIGKILL)
        # the other worker keeps answering while the supervisor starts a new w1
        assert wait(lambda: health(url), timeout=5)
        again = wait(lambda: s if len(s := workers_seen(url)) == 2 and victim not in s else None)
        assert again and sorted(again.values()) == ["gw-w1", "gw-w2"] and victim not in again, again

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        for pid in again:
            assert wait(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=5), f"worker {pid} still runs"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _zombie(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_workers_that_cannot_start_make_the_gateway_give_up(tmp_path, upstream):
    proc, _ = start(tmp_path, upstream.url, service="no-such-service")
    try:
        assert proc.wait(40) == 1
        err = (tmp_path / "gw.err").read_text()
        assert "exited right after" in err and "no-such-service" in err, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_workers_do_not_outlive_a_killed_supervisor(tmp_path, upstream):
    """SIGKILL leaves the supervisor no chance to stop its workers: the kernel must (Linux)."""
    proc, url = start(tmp_path, upstream.url)
    try:
        seen = wait(lambda: s if len(s := workers_seen(url)) == 2 else None)
        assert seen, "two workers never answered"
        proc.kill()
        proc.wait(5)
        gone = wait(lambda: all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in seen), timeout=10)
        assert gone, f"workers {list(seen)} still run after their supervisor was killed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)

