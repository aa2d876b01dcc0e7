"""Guard benchmark processes: the bench upstream's source, the registry, starting and stopping
processes, pinning them to cores, their CPU time from /proc, and the load gauge.

Split out of ``bench_guard.py`` (which re-exports these names: ``bench_control``,
``bench_scale`` and ``guard_baseline`` import them from there)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FENGHUO = str(Path(PY).with_name("fenghuo"))
HZ = os.sysconf("SC_CLK_TCK")
REGISTRY = """
jurisdictions: [{id: cn, name: China, level: national}]
providers: [{id: bp, name: Bench provider, jurisdiction: cn}]
services:
  - {id: bench-chat, name: bench chat, provider: bp, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false, backup_model: bench-small}
  - {id: bench-switch, name: propagation target, provider: bp, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}
"""
UPSTREAM = '''
import json
TEXT = "我是一个人工智能助手，可以回答问题、提供信息和帮助完成各种任务。"
BODY = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}}, ensure_ascii=False).encode()
def _chunk(delta, fin=None):
    return ("data: " + json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "bench-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": fin}]}, ensure_ascii=False) + "\\n\\n").encode()
STREAM = [_chunk({"role": "assistant", "content": ""})] + [_chunk({"content": TEXT[i:i + 4]}) for i in range(0, 32, 4)] \\
    + [_chunk({}, "stop"), b"data: [DONE]\\n\\n"]   # 10 chunks and [DONE], as in the LiteLLM anchor
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if b'"stream":true' in body.replace(b" ", b""):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for c in STREAM:
            await send({"type": "http.response.body", "body": c, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"not up: {url}")


def cpu_seconds(pid: int) -> float:
    st = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / HZ



_AC = None


def gauge() -> float:
    """The load gauge: wall time over CPU time of a fixed pyahocorasick scan in this process
    (the median of 9 runs of ≈ 10 ms; not the best, which would hide the load it is there to
    show). 1.0 means this process had a core to itself while it ran; 2.0 that it got half of
    one — the share the processes measured beside it could count on."""
    import ahocorasick

    global _AC
    if _AC is None:
        import random

        rnd = random.Random(19)
        _AC = ahocorasick.Automaton()
        for i in range(5000):
            _AC.add_word("".join(chr(0x4E00 + rnd.randrange(3000)) for _ in range(rnd.randint(2, 4))), i)
        _AC.make_automaton()
    text = "".join(chr(0x4E00 + (i * 7919) % 3000) for i in range(20_000))
    ratios = []
    for _ in range(9):
        w0, c0 = time.perf_counter(), time.thread_time()
        sum(1 for _ in _AC.iter(text))
        ratios.append((time.perf_counter() - w0) / max(time.thread_time() - c0, 1e-9))
    return statistics.median(ratios)


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)


def stop(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def setup_db(work: Path) -> tuple[str, str]:
    from fenghuo.control import services as registry
    from fenghuo.platform.db import open_database
    from fenghuo.platform.roles import Role, local_actor
    from fenghuo.registry.spec import parse_registration
    from fenghuo.registry.tokens import create_token

    db = open_database(str(work / "bench.db"))
    registry.register(db, local_actor(), parse_registration(REGISTRY))
    admin = create_token(db, local_actor(), "bench-admin", Role.admin)
    system = create_token(db, local_actor(), "bench-guards", Role.system)
    db.dispose()
    return admin, system


def _pin(pid: int, cores: set[int]) -> None:
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(tid), cores)


@contextlib.contextmanager
def gateway_on_own_core(gw_pid: int, up_pid: int):
    """The gateway (all its threads) pinned to the first core, the upstream and this load
    generator to the second; every process back on all cores afterwards. Yields the sorted
    cores, or None on a machine with fewer than two (nothing is pinned then)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        yield None
        return
    me, everything = os.getpid(), set(cores)
    _pin(gw_pid, {cores[0]})
    _pin(up_pid, {cores[1]})
    _pin(me, {cores[1]})
    try:
        yield cores
    finally:
        for pid in (gw_pid, up_pid, me):
            _pin(pid, everything)


