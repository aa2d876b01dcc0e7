"""Before / after for the gateway, interleaved in one run: ``FENGHUO_BENCH_BASELINE=<src dir>``
(the ``src`` of a worktree of the baseline commit, e.g. ``git worktree add /tmp/wt-old <commit>``
then ``/tmp/wt-old/src``) makes ``bench guard`` start a second gateway from that tree in front of
the same upstream and measure both in turn, each pinned to core 0 while it is measured (the
upstream and the load generator on core 1), so both see the same machine at the same time.

Rows: CPU per call at c=16 and at c=1 (all the gateway's threads, from the scheduler's
nanosecond counts; system time apart, in 10 ms ticks), added p50 / p99 at c=16 against a direct
call measured just before, and CPU per KB of a never-seen 64 KB history over a 1 KB one at c=4.
The baseline tree needs its native kernels built (:func:`require_native`). Both gateways are
started for the comparison and warmed up alike. Each pair's ratio is taken per repetition
(after ÷ before), then the median.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import uvloop

from bench.guard_load import PAYLOAD, conversation, distinct, fresh, load
from bench.guard_procs import FENGHUO, _pin, free_port, gauge, start, wait_http

HZ = os.sysconf("SC_CLK_TCK")


def missing_native(src: str) -> list[str]:
    """The checks' native kernels (``fenghuo/checks/*.so``, what a gateway runs) this tree has
    and the tree at ``src`` lacks. A fresh ``git worktree`` has none until built (``python
    setup.py build_ext --inplace`` in it): its checks then run their numpy fallbacks, and a
    gateway measured from it pays for checks the other one does not."""
    import fenghuo.checks

    here = Path(fenghuo.checks.__file__).parent
    there = Path(src) / "fenghuo" / "checks"
    return sorted(str(p.relative_to(here)) for p in here.rglob("*.so")
                  if not list((there / p.parent.relative_to(here)).glob(p.name.split(".")[0] + ".*.so")))


def require_native(src: str) -> None:
    gone = missing_native(src)
    if gone:
        raise SystemExit(f"{src} has no native kernels built ({', '.join(gone)}); its checks would run their numpy "
                         f"fallbacks and the comparison would not be like for like. Build them first: "
                         f"cd {Path(src).parent} && python setup.py build_ext --inplace")


def _cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds of all the process's threads, system seconds). The total is the scheduler's
    nanosecond count (``/proc/<pid>/task/*/schedstat``); ``/proc/<pid>/stat`` counts 10 ms
    ticks, ≈ 1–2 % of a row's CPU. System time has only the ticks (the row says so)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):  # a thread that ended meanwhile
            continue
    st = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return total / 1e9, int(st[12]) / HZ


def _measure(pid: int, via: str, direct: str, n: int, tag: str) -> dict[str, float]:
    d = uvloop.run(load(direct, 16, n, 200, payload=fresh(n + 200)))
    c0, s0 = _cpu(pid)
    g = uvloop.run(load(via, 16, n, 200, payload=fresh(n + 200)))
    c1, s1 = _cpu(pid)
    m = n // 4
    g1 = uvloop.run(load(via, 1, m, 50, payload=fresh(m + 50)))
    c2, _ = _cpu(pid)
    kb = {}
    for size, count in (("1", 300), ("64", 60)):
        pl = distinct({**PAYLOAD, "messages": conversation(int(size))}, count + 50, f"{tag}k{size}-")
        k0 = _cpu(pid)[0]
        r = uvloop.run(load(via, 4, count, 50, payload=pl))
        if r["errors"]:
            raise RuntimeError(f"{size} KB prompts: {r['errors']} calls failed")
        kb[size] = (_cpu(pid)[0] - k0) * 1e6 / (count + 50)
    if g["errors"] or g1["errors"]:
        raise RuntimeError(f"gateway calls failed: {g['errors'] + g1['errors']}")
    return {"cpu16": (c1 - c0) * 1e6 / (n + 200), "sys16": (s1 - s0) * 1e6 / (n + 200),
            "cpu1": (c2 - c1) * 1e6 / (m + 50), "a50": g["p50"] - d["p50"], "a99": g["p99"] - d["p99"],
            "per_kb": (kb["64"] - kb["1"]) / 63}


def _gateway(work: Path, env: dict, up_port: int, src: str | None, name: str, procs: list) -> tuple[int, str]:
    """A gateway of the tree at ``src`` (None: this tree) in a process of its own, warmed up."""
    port = free_port()
    gw = start([FENGHUO, "--db", str(work / "bench.db"), "gateway", "--service", "bench-chat", "--upstream",
                f"http://127.0.0.1:{up_port}", "--port", str(port), "--spool", str(work / f"spool-{name}")],
               dict(env, PYTHONPATH=src) if src else env, work / f"gateway-{name}.log")
    procs.append(gw)
    wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    uvloop.run(load(url, 16, 1000, 200, payload=fresh(1200)))  # warm-up, not counted
    return gw.pid, url


def rows(work: Path, env: dict, up_pid: int, up_port: int, direct: str, src: str, n: int, reps: int, procs: list,
         new_src: str | None = None) -> list[str]:
    """Both sides are gateways started for this comparison and warmed up alike: measuring the
    benchmark's own gateway as "after" (it had served the whole benchmark, its heap and caches
    grown) against a fresh baseline had read the same pair of trees as 0.93 and as 1.01."""
    require_native(src)
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return []
    sides = {"before": _gateway(work, env, up_port, src, "before", procs),
             "after": _gateway(work, env, up_port, new_src, "after", procs)}
    me, everything = os.getpid(), set(cores)
    got: dict[str, list[dict]] = {"before": [], "after": []}
    gauges = []
    try:
        _pin(up_pid, {cores[1]})
        for r in range(reps):
            for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
                pid, url = sides[side]
                _pin(pid, {cores[0]})
                _pin(me, {cores[0]})
                gauges.append(gauge())
                _pin(me, {cores[1]})
                got[side].append(_measure(pid, url, direct, n, f"{side}{r}-"))
                _pin(pid, everything)
    finally:
        for pid in (sides["before"][0], sides["after"][0], up_pid, me):
            _pin(pid, everything)
    med = statistics.median
    out = ["", f"Before / after, interleaved (`FENGHUO_BENCH_BASELINE={src}`): the baseline tree's gateway and this one in front "
           f"of the same upstream, both started for this comparison and warmed up alike, measured in turn, {reps} repetition(s), each gateway pinned to core 0 while measured (upstream "
           f"and load generator on core 1); medians, ratio = median of after ÷ before per repetition; load gauge on core 0 "
           f"{med(gauges):.2f} (max {max(gauges):.2f}):", "",
           "| measure | before | after | after ÷ before |", "|---|---|---|---|"]
    for key, name, unit in (("cpu16", "gateway CPU per call, c=16", "µs"), ("sys16", "… of it system time (10 ms ticks)", "µs"),
                            ("cpu1", "gateway CPU per call, c=1", "µs"), ("a50", "added p50, c=16", "ms"),
                            ("a99", "added p99, c=16", "ms"), ("per_kb", "CPU per KB of never-seen history (64 KB over 1 KB, c=4)", "µs")):
        bs, as_ = [x[key] for x in got["before"]], [x[key] for x in got["after"]]
        fmt = "{:.2f}" if unit == "ms" else "{:.0f}" if key != "per_kb" else "{:.1f}"
        ratio = med([a / bb for a, bb in zip(as_, bs) if bb]) if all(bs) else float("nan")
        out.append(f"| {name} | {fmt.format(med(bs))} {unit} | {fmt.format(med(as_))} {unit} | {ratio:.2f} |")
    return out
