"""What keeps the gateway's event loop free (issue 19, gateway tail): the process is settled once
everything is loaded (guard.runtime), and a long text is checked in a worker thread while short
ones stay on the loop."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.guard import gateway as gateway_mod
from fenghuo.guard.asgi import mask_messages

from .helpers import WordCheck


def test_settle_freezes_the_loaded_heap_once_and_bounds_the_lock_turn():
    # In a fresh interpreter: freezing and the switch interval are process-wide.
    code = (
        "import gc, sys\n"
        "from fenghuo.guard import runtime\n"
        "keep = [[i] for i in range(20000)]\n"
        "assert gc.get_freeze_count() == 0\n"
        "assert runtime.settle() is True\n"
        "assert gc.get_freeze_count() >= 20000, gc.get_freeze_count()\n"
        "assert gc.get_threshold()[0] == runtime.GEN0_THRESHOLD\n"
        "assert sys.getswitchinterval() <= runtime.SWITCH_INTERVAL + 1e-9\n"
        "frozen = gc.get_freeze_count()\n"
        "assert runtime.settle() is False and gc.get_freeze_count() == frozen\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def _lifespan(gw) -> None:
    import asyncio

    async def run() -> None:
        msgs = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        sent = []

        async def receive():
            return next(msgs)

        async def send(m):
            sent.append(m["type"])

        await gw({"type": "lifespan"}, receive, send)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    asyncio.run(run())


def test_only_the_gateways_own_process_is_settled(make_gateway, monkeypatch):
    # settle() changes the whole process (GC freeze, thresholds, switch interval): a gateway
    # hosted in a test or an application leaves it alone; `fenghuo gateway` asks for it.
    calls = []
    monkeypatch.setattr(gateway_mod.runtime, "settle", lambda: calls.append(1) or True)
    gw, _srv = make_gateway()
    assert gw.settle is False
    _lifespan(gw)
    assert calls == []
    gw.settle = True  # what the CLI's serve() sets before uvicorn starts
    _lifespan(gw)
    assert calls == [1]


def test_the_cli_settles_the_gateway_it_serves():
    import inspect

    from fenghuo.guard import cli

    assert "gw.settle = True" in inspect.getsource(cli.gateway.callback)


class ThreadNoting(WordCheck):
    """The test's word check, noting which thread ran each scan and how long its text was."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, str]] = []

    def scan(self, text: str) -> Verdict:
        self.seen.append((len(text), threading.current_thread().name))
        return super().scan(text)


def _ask(srv, content: str) -> httpx.Response:
    return httpx.post(f"{srv.url}/v1/chat/completions", timeout=30,
                      json={"model": "primary-model", "messages": [{"role": "user", "content": content}]})


def test_a_long_prompt_is_checked_off_the_loop_and_a_short_one_on_it(make_gateway):
    check = ThreadNoting()
    gw, srv = make_gateway(checks=check)
    assert not gw.slow_checks
    short, long = "你好" * 10, "你好，今天天气不错。" * 1000  # 20 and 10,000 characters
    assert len(long) > gateway_mod.OFFLOAD_CHARS
    threads = {}
    for content in (short, long):
        check.seen.clear()
        r = _ask(srv, content)
        assert r.status_code == 200, r.text
        # The input check (the prompt's length), then the answer's (judged with the prompt).
        threads[content] = (dict(check.seen)[len(content)], [t for n, t in check.seen if n != len(content)][0])
    loop = threads[short][0]
    assert threads[short] == (loop, loop)  # both on the server's event-loop thread
    # The long prompt in a worker thread; the short answer on the loop (the judge reads only the
    # prompt's last 2,000 characters, so a long prompt does not make the answer's check long).
    assert threads[long][0] != loop and threads[long][1] == loop


def test_a_long_prompt_is_still_blocked_and_masked_off_the_loop(make_gateway, upstream):
    gw, srv = make_gateway(checks=WordCheck())
    filler = "今天天气不错。" * 1300
    r = _ask(srv, filler + "网络赌场")
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "content_filter"
    r = _ask(srv, filler + "电话 13812345678")
    assert r.status_code == 200
    sent = upstream.app.state.seen[-1]["messages"][0]["content"]
    assert "13812345678" not in sent and sent.endswith("*" * 11)


def test_offload_rule():
    class Gw:
        slow_checks = False

    assert not gateway_mod.Gateway.offload(Gw(), gateway_mod.OFFLOAD_CHARS)
    assert gateway_mod.Gateway.offload(Gw(), gateway_mod.OFFLOAD_CHARS + 1)
    Gw.slow_checks = True
    assert gateway_mod.Gateway.offload(Gw(), 1)


def test_finding_offsets_survive_the_thread():
    # The masked text is built from the check's offsets in the joined messages; a thread does not
    # change them (a plain check, called the same way the gateway calls it).
    f = Finding("pii.phone", 3, 14, "phone", Action.MASK, "A4f")
    assert mask_messages({"messages": [{"role": "user", "content": "电话 13812345678"}]}, [f])["messages"][0][
        "content"] == "电话 ***********"


def test_long_local_checks_run_one_at_a_time_and_remote_ones_together():
    """Off the loop, local checks of long texts take turns on one thread of their own (together
    they would take the interpreter lock from the loop in turn); a remote check's calls wait on
    the network together, on asyncio's pool."""
    import asyncio
    import threading
    import time

    from fenghuo.guard.core import Guard
    from fenghuo.guard.telemetry import NullSink

    g = Guard("open-chat", checks=None, failsafe="open", sink=NullSink(), follow=False, kind="gateway", spool_dir=False)
    gw = gateway_mod.Gateway(g, "http://127.0.0.1:9")
    lock, running, seen = threading.Lock(), [0], []

    def work(tag: str) -> str:
        with lock:
            running[0] += 1
            seen.append((running[0], threading.current_thread().name))
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return tag

    async def four() -> list[str]:
        return await asyncio.gather(*(gw.off_loop(work, str(i)) for i in range(4)))

    try:
        assert asyncio.run(four()) == ["0", "1", "2", "3"]
        assert max(n for n, _ in seen) == 1 and {t for _, t in seen} == {seen[0][1]}
        assert seen[0][1].startswith("fenghuo-long-check")
        seen.clear()
        gw.slow_checks = True
        assert asyncio.run(four()) == ["0", "1", "2", "3"]
        assert max(n for n, _ in seen) > 1 and not any(t.startswith("fenghuo-long-check") for _, t in seen)
    finally:
        g.close()
