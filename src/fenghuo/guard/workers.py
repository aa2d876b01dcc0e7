"""``fenghuo gateway --workers N``: N gateway processes on one port, each a guard instance.

One gateway process uses one core (an asyncio loop; ≈ 7,500 calls/s on this project's
machine). On a bigger host the operator wants them all, so the parent forks N workers; each
binds the same host:port with SO_REUSEPORT and the kernel spreads new connections over them.
Each worker builds its own gateway *after* the fork — its own event loop, switch follower,
telemetry thread and spool — and is an instance of its own (``<instance>-w<k>``), so the
control plane's enforcement view lists every worker and a stop reaches each one directly.

The parent only supervises: a worker that dies is started again (after a short pause, so a
worker failing at start cannot spin), SIGTERM/SIGINT stop them all, and on Linux a worker
whose supervisor died (even by SIGKILL) is stopped by the kernel. Why not uvicorn's own
``--workers``: it shares one listening socket, and measured here one uvloop worker then took
every connection (no gain); and it would import the app by name in fresh interpreters instead of
building each guard from the options already parsed.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable

RESTART_PAUSE = 1.0
QUICK_EXIT = 5.0  # a worker dying this soon after its start failed to start
MAX_QUICK_EXITS = 3  # in a row: a configuration error, not a crash; give up and say so


def reuseport_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("--workers 需要 SO_REUSEPORT（Linux/BSD）/ --workers needs SO_REUSEPORT (Linux or BSD)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    if listen:
        s.listen(2048)
    return s


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel sends this worker SIGTERM when the supervisor dies, even by SIGKILL,
    so no worker outlives it serving a port nobody supervises."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the supervisor's SIGTERM handler is all there is
        return
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os._exit(0)


def serve_workers(n: int, host: str, port: int, run_worker: Callable[[int, socket.socket], None]) -> int:
    """Fork ``n`` workers running ``run_worker(k, sock)`` (k = 1…n) and supervise them until a
    signal asks to stop; returns the exit status."""
    # Fail here, in the parent, if the port is taken. The probe is closed before any fork: a
    # listening copy inherited by the workers would join the port's group and be handed
    # connections that nobody accepts.
    reuseport_socket(host, port, listen=False).close()
    children: dict[int, tuple[int, float]] = {}  # pid -> (k, started)
    stopping = False
    quick_exits = 0
    failed = False

    supervisor = os.getpid()

    def start(k: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: its own socket on the shared port, its own gateway
            code = 0
            try:
                _die_with_parent(supervisor)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                run_worker(k, reuseport_socket(host, port))
            except BaseException as exc:  # noqa: BLE001 - report, then leave without running the parent's cleanup
                print(f"fenghuo gateway worker {k}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                code = 1
            finally:
                os._exit(code)
        children[pid] = (k, time.monotonic())

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for k in range(1, n + 1):
        start(k)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        entry = children.pop(pid, None)
        if entry is None or stopping:
            continue
        k, started = entry
        code = os.waitstatus_to_exitcode(status)
        quick_exits = quick_exits + 1 if time.monotonic() - started < QUICK_EXIT else 0
        if quick_exits >= MAX_QUICK_EXITS:
            print(f"工作进程连续 {quick_exits} 次启动即退出，停止 / {quick_exits} workers in a row exited right after "
                  f"starting (last: worker {k}, exit {code}); stopping", file=sys.stderr, flush=True)
            stop(signal.SIGTERM, None)
            failed = True
            continue
        print(f"工作进程 {k} 退出（{code}），重启 / gateway worker {k} (pid {pid}) exited with {code}; starting it again",
              file=sys.stderr, flush=True)
        time.sleep(RESTART_PAUSE)
        if not stopping:
            start(k)
    return 1 if failed else 0
