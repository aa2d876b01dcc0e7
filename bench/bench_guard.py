"""Guard benchmarks: gateway added latency and throughput against a direct call to the same
local upstream in the same run; switch propagation to 100 guard instances via their
acknowledgements; the switch-state lookup.

Processes: the upstream (a bare ASGI OpenAI-compatible server, as in the LiteLLM anchor
measurement), the gateway (``fenghuo gateway`` in embedded mode, the packaged check pipeline
on) and the control plane (``fenghuo serve``) each run as their own process, so each one's CPU
can be read from /proc. The load generator is a closed-loop httpx client in this process.

The code is in ``bench/guard_*.py``: ``guard_procs`` (processes, cores, CPU, the load gauge),
``guard_load`` (the load generator and payloads), ``guard_gateway`` and ``guard_report`` (the
gateway rows and their Markdown), ``guard_switch`` (propagation and the lookup),
``guard_baseline`` (before / after); this module keeps the entry points and the names other
benchmarks import from it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.guard_gateway import gateway_bench
from bench.guard_procs import cpu_seconds, gauge, setup_db  # noqa: F401 - cpu_seconds, gauge: bench_control, bench_scale
from bench.guard_switch import follower_process, propagation_bench


def run(quick: bool) -> str:
    work = Path(tempfile.mkdtemp(prefix="fenghuo-bench-guard-"))
    env = dict(os.environ, FENGHUO_HOME=str(work / "home"), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    os.environ["FENGHUO_HOME"] = str(work / "home")
    admin, system = setup_db(work)
    load0 = os.getloadavg()[0]
    out = ["## Guard", ""]
    out += gateway_bench(work, env, quick)
    out += [""]
    out += propagation_bench(work, env, admin, system, quick)
    out += ["", f"_Machine load average (1 min) at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores; other work on a shared machine inflates tails._"]
    return "\n".join(out) + "\n"


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "followers":
    follower_process(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
