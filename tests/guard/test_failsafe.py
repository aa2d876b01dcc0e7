"""Lease and fail-safe, by actually stopping the control plane; the stop cut of a live stream."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from fenghuo.guard.cli import build_gateway

from .conftest import command, gateway_maker
from .helpers import WordCheck, wait_for

MSG = {"model": "m", "messages": [{"role": "user", "content": "你好"}]}


class ControlProcess:
    """`fenghuo serve` as its own process on the test database, so a test can SIGKILL it: no
    clean shutdown, no closing of the guards' streams — the way a control plane really dies."""

    def __init__(self, db_path, port: int | None = None) -> None:
        import os
        import subprocess
        import sys
        from pathlib import Path

        from fenghuo.replay.server import free_port

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "FENGHUO_BUS"}  # the in-process switch, not NATS
        env.update(FENGHUO_POLL_SECONDS="0.05")
        exe = str(Path(sys.executable).with_name("fenghuo"))
        self.proc = subprocess.Popen([exe, "--db", str(db_path), "serve", "--port", str(self.port), "--heartbeat", "0.2",
                                      "--checkpoint-every", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for(self._up, timeout=30, every=0.05):
            self.kill()
            raise RuntimeError(f"fenghuo serve did not start: {self.proc.stderr.read().decode()[-2000:]}")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            return True  # exited: reported by the caller's check
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> float:
        """SIGKILL; returns when (monotonic) the process was killed."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        at = time.monotonic()
        self.proc.wait(10)
        return at


@pytest.fixture
def gateway_at(token, upstream, receiver):
    """A gateway following the control plane at a given URL; returns (gateway, server)."""
    for make in gateway_maker(token, receiver, ack_seconds=0.5):
        yield lambda control_url, service, **kw: make(upstream.url, control_url, service, **kw)  # noqa: B023 - one pass


def post(srv, **kw):
    return httpx.post(f"{srv.url}/v1/chat/completions", json={**MSG, **kw}, timeout=10)


def refused_within(srv, deadline: float) -> float | None:
    """Call until refused; returns when (monotonic) or None if still served at the deadline."""
    while time.monotonic() < deadline:
        r = post(srv)
        if r.status_code == 503:
            assert r.json()["error"]["code"] == "service_paused" and r.json()["error"]["failsafe"] is True
            return time.monotonic()
        assert r.status_code == 200
        time.sleep(0.05)
    return None


def test_fail_closed_refuses_within_lease_plus_one_second(cp_db, tmp_path, gateway_at, receiver):
    cp = ControlProcess(tmp_path / "cp.db")
    try:
        gw, srv = gateway_at(cp.url, "closed-med", lease=1.0)
        assert gw.guard.info.failsafe_mode == "closed"
        assert post(srv).status_code == 200
        killed = cp.kill()  # the control plane is gone, without a goodbye
        at = refused_within(srv, killed + 1.0 + 1.0)
        assert at is not None, "fail-closed guard still served after lease + 1 s"
        assert at - killed >= 0.5  # the lease was honoured, not an instant refusal
    finally:
        cp.kill()
    gw.guard.telemetry.flush(5)
    ev = receiver.app.state.events[-1]
    assert ev["refusal"] == "failsafe" and ev["failsafe"] is True


def test_fail_open_keeps_serving_and_marks_events(cp_db, tmp_path, gateway_at, receiver):
    cp = ControlProcess(tmp_path / "cp.db")
    try:
        gw, srv = gateway_at(cp.url, "open-chat", lease=0.5)
        assert gw.guard.info.failsafe_mode == "open"
        cp.kill()
        time.sleep(1.2)
        for _ in range(3):
            r = post(srv)
            assert r.status_code == 200 and r.headers["x-fenghuo-failsafe"] == "1"
    finally:
        cp.kill()
    gw.guard.telemetry.flush(5)
    evs = receiver.app.state.events[-3:]
    assert all(e["failsafe"] is True and e["status"] == "ok" for e in evs)


def test_contact_returns_after_restart(cp_db, tmp_path, token, upstream, receiver):
    cp = ControlProcess(tmp_path / "cp.db")
    gw = build_gateway("closed-med", upstream.url, control=cp.url, token=token, checks=WordCheck(), lease=0.5)
    try:
        assert gw.guard.wait_connected(5)
        cp.kill()
        assert wait_for(lambda: gw.guard.state().failsafe, timeout=3)
        assert gw.guard.state().state == "paused"
        cp = ControlProcess(tmp_path / "cp.db", port=cp.port)  # a new process on the same address
        assert wait_for(lambda: not gw.guard.state().failsafe, timeout=10)
        assert gw.guard.state().state == "running"
    finally:
        cp.kill()
        gw.guard.close(timeout=1)


def test_cold_start_without_control_plane(tmp_path, token, upstream):
    dead = "http://127.0.0.1:9"  # nothing listens there
    gw = build_gateway("closed-med", upstream.url, control=dead, token=token, checks=None)
    assert gw.guard.state().state == "paused" and gw.guard.state().failsafe  # no file: fail-safe (closed when unknown)
    gw.guard.close(timeout=1)
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"service": {"service": "closed-med", "failsafe_mode": "closed", "lease_seconds": 0.5},
                                      "state": {"service": "closed-med", "state": "degraded", "version": 7}}))
    gw = build_gateway("closed-med", upstream.url, control=dead, token=token, checks=None, state_file=state_file)
    eff = gw.guard.state()
    assert (eff.state, eff.version, eff.source) == ("degraded", 7, "bootstrap")
    assert wait_for(lambda: gw.guard.state().state == "paused", timeout=2)  # then the lease runs out: fail-closed
    gw.guard.close(timeout=1)


def test_fail_open_cold_start_without_state_file(token, upstream, receiver):
    """No control plane and no state file: nothing says how the service is graded, so the
    guard is fail-closed unless told otherwise; told ``--failsafe open`` it serves, and says so."""
    from fenghuo.guard.telemetry import HttpSink
    from fenghuo.replay.server import BackgroundServer

    gw = build_gateway("open-chat", upstream.url, control="http://127.0.0.1:9", token=token, checks=None, failsafe="open",
                       lease=0.5, sink=HttpSink(f"{receiver.url}/api/v1/events"))
    srv = BackgroundServer(gw).start()
    try:
        eff = gw.guard.state()
        assert (eff.state, eff.failsafe, eff.source) == ("running", True, "failsafe")
        r = post(srv)
        assert r.status_code == 200 and r.headers["x-fenghuo-failsafe"] == "1"
        gw.guard.telemetry.flush(5)
        assert wait_for(lambda: receiver.app.state.events)
        ev = receiver.app.state.events[-1]
        assert ev["status"] == "ok" and ev["failsafe"] is True
    finally:
        srv.stop()
        gw.guard.close(timeout=1)


def test_stop_cuts_open_stream_within_100ms(control, make_gateway, upstream, receiver):
    gw, srv = make_gateway("open-chat")
    upstream.app.state.text = "这是一个很长的回答。" * 40
    upstream.app.state.chunk_delay = 0.05
    got: list[tuple[float, dict]] = []

    def read():
        with httpx.stream("POST", f"{srv.url}/v1/chat/completions", json={**MSG, "stream": True}, timeout=20) as r:
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    got.append((time.monotonic(), json.loads(line[6:])))

    t = threading.Thread(target=read)
    t.start()
    assert wait_for(lambda: len(got) >= 5, timeout=5)
    reached = []
    gw.guard.cache.subscribe(lambda before, after: reached.append(time.monotonic()))
    command(control, "open-chat", "stop")
    t.join(10)
    assert reached, "the stop never reached the guard"
    last_at, last = got[-1]
    assert last["fenghuo"]["code"] == "service_stopped" and last["choices"][0]["finish_reason"] == "stop"
    cut_ms = (last_at - reached[0]) * 1000
    assert cut_ms < 100 * 1.5, f"stream ended {cut_ms:.1f} ms after the stop reached the guard"
    assert len(got) < 60  # it did not run to its end (80 chunks)
    gw.guard.telemetry.flush(5)
    ev = [e for e in receiver.app.state.events if e["status"] == "cut"]
    assert ev and ev[0]["stream"] is True and ev[0]["attributes"]["cut_ms"] < 100


def test_stop_cuts_a_waiting_non_streaming_call(control, make_gateway, upstream, receiver):
    gw, srv = make_gateway("open-chat")
    upstream.app.state.mode = "slow"  # the upstream takes 2 s
    result = {}

    def call():
        t0 = time.monotonic()
        r = post(srv)
        result.update(status=r.status_code, body=r.json(), at=time.monotonic(), t0=t0)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.3)
    reached = []
    gw.guard.cache.subscribe(lambda before, after: reached.append(time.monotonic()))
    command(control, "open-chat", "stop")
    t.join(5)
    upstream.app.state.mode = "ok"
    assert result["status"] == 503 and result["body"]["error"]["code"] == "service_stopped"
    # It did not wait for the upstream's answer: the call ended within 150 ms of the stop
    # reaching this guard (and telemetry says "cut" below). How long the stop took to reach the
    # guard is propagation, which bench control measures; once, in a full CI run, it took 1.6 s
    # and an end-to-end bound here failed for that reason alone.
    assert (result["at"] - reached[0]) * 1000 < 150
    gw.guard.telemetry.flush(5)
    assert any(e["status"] == "cut" and e["stream"] is False for e in receiver.app.state.events)
