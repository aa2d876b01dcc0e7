"""The gateway rows of the guard benchmark: added latency against a direct call, on shared cores
and on a core of the gateway's own, CPU per call by prompt size, saturation on one core, the
full pipeline in a second gateway, and (``FENGHUO_BENCH_BASELINE``) the interleaved
before / after table of ``guard_baseline``. The Markdown is written by ``guard_report``."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import uvloop

from bench.guard_load import PAYLOAD, conversation, distinct, fresh, load, next_turns
from bench.guard_procs import (
    FENGHUO,
    PY,
    UPSTREAM,
    _pin,
    cpu_seconds,
    free_port,
    gateway_on_own_core,
    gauge,
    start,
    stop,
    wait_http,
)
from bench.guard_report import gateway_report


def saturate_pinned(gw_pid: int, up_pid: int, url: str, n: int) -> dict | None:
    """Throughput per core measured, not derived from CPU time: the gateway (all its threads)
    pinned to one core, the upstream and this load generator to the other, and a closed loop at
    concurrency 32 so the gateway's core never waits for work."""
    with gateway_on_own_core(gw_pid, up_pid) as cores:
        if cores is None:
            return None
        cpu0, t0 = cpu_seconds(gw_pid), time.perf_counter()
        r = uvloop.run(load(url, 32, n, 500, payload=fresh(n + 500)))
        r["gw_core_busy"] = (cpu_seconds(gw_pid) - cpu0) / (time.perf_counter() - t0)
    return r


def own_core_rows(gw_pid: int, up_pid: int, direct: str, via: str, n: int, reps: int) -> list[dict] | None:
    """Added latency at c=16 with the gateway on a core of its own: the gateway pinned to core
    0, the upstream and this load generator to core 1, direct and gateway runs interleaved the
    same way. The rows above share both cores among all three processes (and whatever else
    runs on the machine), so the gateway waits for a core as well as for its own work."""
    out = []
    me = os.getpid()
    with gateway_on_own_core(gw_pid, up_pid) as cores:
        if cores is None:
            return None
        for _ in range(reps):
            _pin(me, {cores[0]})  # the gauge read on the gateway's core: pinning gives no core to itself on a shared machine
            g0 = gauge()
            _pin(me, {cores[1]})
            d = uvloop.run(load(direct, 16, n, 200, payload=fresh(n + 200)))
            g = uvloop.run(load(via, 16, n, 200, payload=fresh(n + 200)))
            _pin(me, {cores[0]})
            out.append({"direct": d, "gateway": g, "gauge": (g0 + gauge()) / 2})
            _pin(me, {cores[1]})
    return out


def prompt_size_rows(gw_pid: int, via: str, reps: int, quick: bool) -> dict[str, list[float]]:
    """Gateway CPU per call at c=4, interleaved: a never-seen 1 KB and 64 KB chat history (every
    request's first message differs, so every call scans its whole history) and a conversation's
    next turn (a 64 KB history that grows by an answer and a question per call, four
    conversations in turn: what a chat client resends)."""
    out: dict[str, list[float]] = {"1": [], "64": [], "next": []}
    m1, m64 = (300, 60) if quick else (1500, 300)
    payloads = {"1": {**PAYLOAD, "messages": conversation(1)}, "64": {**PAYLOAD, "messages": conversation(64)}}
    for r in range(reps):
        payloads["next"] = next_turns(64, m64 + 50, tag=f"r{r}-")
        for key, m in (("1", m1), ("64", m64), ("next", m64)):
            pl = payloads[key] if key == "next" else distinct(payloads[key], m + 50, f"r{r}k{key}-")
            cpu0 = cpu_seconds(gw_pid)
            res = uvloop.run(load(via, 4, m, 50, payload=pl))
            if res["errors"]:
                raise RuntimeError(f"{key} KB prompts: {res['errors']} calls failed")
            out[key].append((cpu_seconds(gw_pid) - cpu0) * 1e6 / (m + 50))
    return out


def full_pipeline_config(work: Path, env: dict) -> Path | None:
    """A check pipeline as a deployment would run it: the shared 64,420-word lexicon with its
    tags and allow-list, PII, and a classifier trained on COLD (2.4 s). None without the data."""
    from fenghuo.platform.paths import shared_data_dir

    data = shared_data_dir()
    if data is None or not (data / "classifier" / "cold" / "train.csv").exists():
        return None
    model = work / "cold.model"
    subprocess.run([FENGHUO, "classifier", "train", "--data", str(data / "classifier" / "cold"), "--out", str(model)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lx = data / "lexicon"
    cfg = work / "full_checks.yaml"
    cfg.write_text(
        "checks:\n"
        f"  - {{type: lexicon, files: [{json.dumps(str(lx / 'sensitive_word_dict.txt'))}, {json.dumps(str(lx / 'sensitive_word_tags.txt'))}], "
        f"allow_files: [{json.dumps(str(lx / 'sensitive_word_allow.txt'))}]}}\n"
        "  - {type: pii}\n"
        f"  - {{type: classifier, model: {json.dumps(str(model))}, threshold: 0.5}}\n", encoding="utf-8")
    return cfg


def full_pipeline_rows(work: Path, env: dict, up_port: int, direct: str, n: int, reps: int, procs: list) -> list[dict] | None:
    """The same measurement with the full pipeline, in a second gateway process."""
    cfg = full_pipeline_config(work, env)
    if cfg is None:
        return None
    port = free_port()
    gw = start([FENGHUO, "--db", str(work / "bench.db"), "gateway", "--service", "bench-chat", "--upstream", f"http://127.0.0.1:{up_port}",
                "--port", str(port), "--spool", str(work / "spool-full"), "--checks", str(cfg)], env, work / "gateway-full.log")
    procs.append(gw)
    wait_http(f"http://127.0.0.1:{port}/healthz", timeout=240)  # a 64,420-word lexicon compiles for minutes on a busy machine
    via = f"http://127.0.0.1:{port}/v1/chat/completions"
    rows = []
    for _ in range(reps):
        for c in (1, 16):
            d = uvloop.run(load(direct, c, n, 200, payload=fresh(n + 200)))
            cpu0 = cpu_seconds(gw.pid)
            g = uvloop.run(load(via, c, n, 200, payload=fresh(n + 200)))
            rows.append({"c": c, "direct": d, "gateway": g, "cpu": (cpu_seconds(gw.pid) - cpu0) * 1000 / (n + 200)})
    return rows


def gateway_bench(work: Path, env: dict, quick: bool) -> list[str]:
    n, reps = (400, 1) if quick else (3000, 3)
    up_port, gw_port = free_port(), free_port()
    (work / "bench_upstream.py").write_text(UPSTREAM)
    procs = []
    try:
        up = start([PY, "-m", "uvicorn", "bench_upstream:app", "--port", str(up_port), "--no-access-log", "--log-level", "warning",
                    "--app-dir", str(work)], env, work / "upstream.log")
        procs.append(up)
        gw = start([FENGHUO, "--db", str(work / "bench.db"), "gateway", "--service", "bench-chat", "--upstream",
                    f"http://127.0.0.1:{up_port}", "--port", str(gw_port), "--spool", str(work / "spool")], env, work / "gateway.log")
        procs.append(gw)
        direct, via = f"http://127.0.0.1:{up_port}/v1/chat/completions", f"http://127.0.0.1:{gw_port}/v1/chat/completions"
        wait_http(f"http://127.0.0.1:{up_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz", timeout=120)
        rows: dict[tuple[str, int], list[dict]] = {}
        for _ in range(reps):
            for c in (1, 16):
                g0, pair = gauge(), []
                for label, url in (("direct", direct), ("gateway", via)):
                    cpu0 = cpu_seconds(gw.pid)
                    r = uvloop.run(load(url, c, n, 200, payload=fresh(n + 200)))
                    r["gw_cpu_ms_per_req"] = (cpu_seconds(gw.pid) - cpu0) * 1000 / (n + 200)
                    rows.setdefault((label, c), []).append(r)
                    pair.append(r)
                for r in pair:
                    r["gauge"] = (g0 + gauge()) / 2 if r is pair[0] else pair[0]["gauge"]
            for c in (1, 16):
                for label, url in (("direct", direct), ("gateway", via)):
                    rows.setdefault((label + "-stream", c), []).append(uvloop.run(load(url, c, n // 2, 100, stream=True,
                                                                                           payload=fresh(n // 2 + 100))))
        own_core = own_core_rows(gw.pid, up.pid, direct, via, n, reps)
        per_kb = prompt_size_rows(gw.pid, via, reps, quick)
        pinned = saturate_pinned(gw.pid, up.pid, via, n * 2)
        health = httpx.get(f"http://127.0.0.1:{gw_port}/healthz").json()
        full = full_pipeline_rows(work, env, up_port, direct, n, reps, procs)
        baseline = []
        if os.environ.get("FENGHUO_BENCH_BASELINE"):  # before / after, interleaved (bench/guard_baseline.py)
            from bench import guard_baseline

            # twice the repetitions: 3 pairs had read the same two trees as 0.93 and 1.01
            baseline = guard_baseline.rows(work, env, up.pid, up_port, direct, os.environ["FENGHUO_BENCH_BASELINE"],
                                           n, reps * 2, procs)
    finally:
        for p in reversed(procs):
            stop(p)
    return gateway_report(rows, own_core, per_kb, pinned, health, full, baseline, n, reps)
