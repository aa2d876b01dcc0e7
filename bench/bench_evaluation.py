"""Evaluation overhead per question beyond the endpoint's own latency, at concurrency 32.

The upstream is the replay server in its own process (so it does not share our GIL) with a
fixed model latency. The baseline asks the same questions with a bare httpx client at the
same concurrency; the evaluation runs the real runner (draw, rate of 32 workers, judging,
append + fsync of every answer). Overhead per question = (evaluation wall time − baseline wall
time) / questions, and the ratio of the two wall times.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CONCURRENCY = 32
LATENCY_MS = 20.0


def _start_upstream(recording: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fenghuo.cli", "replay-upstream", "--answers", str(recording), "--port", str(port), "--latency-ms", str(LATENCY_MS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("replay upstream did not start")


async def _baseline(url: str, prompts: list[str]) -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in prompts:
        queue.put_nowait(p)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                prompt = queue.get_nowait()
                resp = await client.post(url + "/v1/chat/completions", json={"model": "replay", "messages": [{"role": "user", "content": prompt}], "temperature": 0})
                resp.json()["choices"][0]["message"]["content"]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def _evaluation(url: str, bank: Path, recording: Path, n: int, home: Path, tag: str, use_checks: bool) -> tuple[float, int]:
    os.environ["FENGHUO_HOME"] = str(home)
    from fenghuo.evaluation.runner import RunConfig, execute, judges_for, prepare

    cfg = RunConfig([str(bank)], url, "replay", seed=1, sizes={"generated": n, "refuse": n, "answer": 0},
                    concurrency=CONCURRENCY, reference=str(recording), use_checks=use_checks, retries=0)
    store = prepare(cfg, f"bench-{tag}")
    judges, _ = judges_for(store.manifest)
    started = time.perf_counter()
    counts = asyncio.run(execute(store, judges))
    return time.perf_counter() - started, counts["ok"]


def _judge_cost(recording: Path, use_checks: bool) -> float:
    from fenghuo.evaluation.judges import default_judges
    from fenghuo.replay.loader import load_answers

    answers = load_answers(recording)
    judges, _ = default_judges(answers, use_checks)
    texts = [(r.question, t) for r in answers.records for t in (r.safe, r.unsafe)]
    started = time.perf_counter()
    for q, t in texts:
        judges.judge(q, t)
    return (time.perf_counter() - started) / len(texts) * 1e6


def run(quick: bool) -> str:
    from fenghuo.evaluation.bank import write_bank
    from fenghuo.evaluation.loaders import load_bank
    from fenghuo.platform.paths import shared_data_dir
    from fenghuo.replay.loader import load_answers
    from fenghuo.replay.server import free_port

    data = shared_data_dir()
    recording = data / "traffic/jade_v3/jade_alignment_medium_zh.csv" if data else None
    if recording is None or not recording.exists():
        return "### Evaluation overhead\n\nSkipped: the shared JADE v3 recording is not present (set FENGHUO_DATA).\n"
    rounds = 1 if quick else 5
    tmp = Path(tempfile.mkdtemp(prefix="fenghuo-bench-eval-"))
    bank = tmp / "bank.jsonl"
    write_bank(load_bank(recording).items, bank)
    prompts = [r.question for r in load_answers(recording).records]
    n = len(prompts)
    try:
        from fenghuo.checks.pipeline import load_pipeline

        load_pipeline()
        check_modes = [False, True]
    except Exception:  # noqa: BLE001 - no usable check pipeline: time the runs without it
        check_modes = [False]
    port = free_port()
    proc = _start_upstream(recording, port)
    url = f"http://127.0.0.1:{port}"
    results: dict[bool, list[tuple[float, float]]] = {m: [] for m in check_modes}
    try:
        asyncio.run(_baseline(url, prompts[:64]))  # warm up connections and the server
        for r in range(rounds):
            for use_checks in check_modes:
                base = asyncio.run(_baseline(url, prompts))
                wall, ok = _evaluation(url, bank, recording, n, tmp / f"home{r}{int(use_checks)}", f"{r}-{int(use_checks)}", use_checks)
                assert ok == n, f"only {ok}/{n} answered"
                results[use_checks].append((base, wall))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    lines = [
        "### Evaluation overhead (`fenghuo eval run` vs a bare client)",
        "",
        f"{n} questions per round, concurrency {CONCURRENCY}, replay upstream in its own process with "
        f"{LATENCY_MS:.0f} ms model latency; median of {rounds} round(s). Baseline: bare `httpx.AsyncClient`, "
        "same questions, same concurrency, no judging or storage.",
        "",
        "| judges | baseline wall s | evaluation wall s | ratio | overhead per question (wall) | judging CPU per answer |",
        "|---|---|---|---|---|---|",
    ]
    for use_checks, rows in results.items():
        base = statistics.median(b for b, _ in rows)
        wall = statistics.median(w for _, w in rows)
        judge_us = _judge_cost(recording, use_checks)
        name = "refusal + reference + content checks" if use_checks else "refusal + reference"
        lines.append(f"| {name} | {base:.3f} | {wall:.3f} | {wall / base:.2f}× | {(wall - base) / n * 1000:.3f} ms | {judge_us:.0f} µs |")
    if check_modes == [False]:
        lines += ["", "The content-check pipeline was not loadable when this ran, so it is not in the table."]
    lines += ["", "Overhead per question is wall-clock time divided by questions at concurrency 32, i.e. what the "
              "evaluation adds to a run's duration per question; judging CPU is measured alone, single-threaded."]
    return "\n".join(lines) + "\n"
