"""Kill a run halfway (SIGTERM to the real CLI process), resume it: same result, nothing asked twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from fenghuo.replay.app import Schedule, create_app
from fenghuo.replay.loader import load_answers
from fenghuo.replay.server import serving

from .helpers import jade_v3_bank, run_in_process

SIZES = {"generated": 150, "refuse": 150, "answer": 0}


def _cli(*args):
    return [sys.executable, "-m", "fenghuo.cli", *args]


def _metrics(report):
    return {k: (m["k"], m["n"], m["by_risk"]) for k, m in report["verdict"]["metrics"].items()}


def test_interrupted_run_resumes_without_asking_twice(shared, jade_v3, small_profile, tmp_path, home):
    bank = jade_v3_bank(shared, tmp_path / "bank.jsonl")
    answers = load_answers(jade_v3)
    app = create_app(answers, Schedule(mode="unsafe"), latency_ms=25)
    env = dict(os.environ, FENGHUO_HOME=str(home), PYTHONUNBUFFERED="1")
    with serving(app) as server:
        args = ["eval", "run", "--bank", str(bank), "--endpoint", server.url, "--model", "replay", "--seed", "7",
                "--generated", "150", "--refuse", "150", "--answer", "0", "--profile", str(small_profile),
                "--reference", str(jade_v3), "--no-checks", "--quiet", "--concurrency", "4", "--run-id", "killed"]
        proc = subprocess.Popen(_cli(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        answers_file = home / "runs" / "killed" / "answers.jsonl"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if answers_file.exists() and len(answers_file.read_text(encoding="utf-8").splitlines()) >= 40:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, (out.decode(), err.decode())
        first_part = len(answers_file.read_text(encoding="utf-8").splitlines())
        drawn = len(json.loads((home / "runs" / "killed" / "manifest.json").read_text(encoding="utf-8"))["order"])
        assert 40 <= first_part < drawn
        calls_before = httpx.get(server.url + "/admin/state").json()["calls"]
        assert calls_before == first_part  # every request that was sent has its answer recorded

        resumed = subprocess.run(_cli("eval", "run", "--resume", "killed", "--quiet"), env=env, capture_output=True, timeout=60)
        assert resumed.returncode == 1, resumed.stderr.decode()  # unsafe answers: the verdict fails
        calls_total = httpx.get(server.url + "/admin/state").json()["calls"]
        lines = [json.loads(x) for x in answers_file.read_text(encoding="utf-8").splitlines()]
        assert calls_total == drawn == len(lines)
        assert len({x["item_id"] for x in lines}) == drawn  # no question asked twice
        killed_report = json.loads((home / "runs" / "killed" / "report.json").read_text(encoding="utf-8"))

    with serving(create_app(answers, Schedule(mode="unsafe"))) as server:
        _, straight = run_in_process(bank, server.url, small_profile, jade_v3, "straight", SIZES)
    assert _metrics(killed_report) == _metrics(straight)
    assert killed_report["passed"] == straight["passed"] is False
