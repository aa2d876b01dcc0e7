"""The before / after table of ``guard_baseline`` on its own, without the rest of the guard
benchmark (≈ 1 minute instead of ≈ 15): an upstream, this tree's gateway and the baseline tree's,
measured in turn, each pinned to core 0 while measured.

    python -m bench.guard_ab /tmp/guard_old/src [--n 3000] [--reps 6] [--new SRC]

``--new``: measure another tree as "after" (e.g. the baseline with only the gateway's files
changed, when other work in progress shares this tree).

Both trees need their native kernels built (``python setup.py build_ext --inplace`` in a fresh
worktree), or the one without runs its checks' numpy fallbacks: refused before anything starts.

For working on the gateway's per-call path; the figures that go into docs/benchmarks.md come
from ``python -m bench guard`` with ``FENGHUO_BENCH_BASELINE`` set.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench import guard_baseline
from bench.guard_procs import PY, UPSTREAM, free_port, setup_db, start, stop, wait_http


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", help="the baseline tree's src directory (a git worktree of the old commit)")
    ap.add_argument("--n", type=int, default=3000, help="requests per c=16 row (default 3000)")
    ap.add_argument("--reps", type=int, default=6, help="repetitions, sides alternating (default 6)")
    ap.add_argument("--new", metavar="SRC", help="the src directory of the tree measured as 'after' (default: this tree's)")
    args = ap.parse_args()
    for src in (args.baseline, args.new):
        if src:
            guard_baseline.require_native(src)
    work = Path(tempfile.mkdtemp(prefix="fenghuo-bench-guard-ab-"))
    env = dict(os.environ, FENGHUO_HOME=str(work / "home"), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    os.environ["FENGHUO_HOME"] = str(work / "home")
    setup_db(work)
    up_port = free_port()
    (work / "bench_upstream.py").write_text(UPSTREAM)
    procs = []
    load0 = os.getloadavg()
    try:
        up = start([PY, "-m", "uvicorn", "bench_upstream:app", "--port", str(up_port), "--no-access-log", "--log-level", "warning",
                    "--app-dir", str(work)], env, work / "upstream.log")
        procs.append(up)
        wait_http(f"http://127.0.0.1:{up_port}/v1/models")
        lines = guard_baseline.rows(work, env, up.pid, up_port, f"http://127.0.0.1:{up_port}/v1/chat/completions",
                                    args.baseline, args.n, args.reps, procs, new_src=args.new)
    finally:
        for p in reversed(procs):
            stop(p)
    print("\n".join(lines))
    print(f"\nload average (1/5/15 min) at start {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}, at end "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; logs in {work}")


if __name__ == "__main__":
    main()
