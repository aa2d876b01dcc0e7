"""End to end against the replay upstream: unsafe answers fail, safe pass, numbers match the data."""

from __future__ import annotations

from collections import Counter, defaultdict

import httpx
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.evaluation.bank import read_bank
from fenghuo.evaluation.refusal import RefusalDetector
from fenghuo.evaluation.report import load_run_verdict
from fenghuo.replay.loader import load_answers, normalise

from .helpers import jade_v3_bank, run_in_process

SIZES = {"generated": 200, "refuse": 200, "answer": 0}


def _cli_run(server, bank, profile, reference, run_id):
    args = ["eval", "run", "--bank", str(bank), "--endpoint", server.url + "/v1", "--model", "replay",
            "--generated", "200", "--refuse", "200", "--answer", "0", "--profile", str(profile),
            "--reference", str(reference), "--no-checks", "--quiet", "--run-id", run_id, "--seed", "7"]
    return CliRunner().invoke(root, args, catch_exceptions=False)


def test_unsafe_answers_fail_and_safe_answers_pass(shared, jade_v3, replay, small_profile, tmp_path):
    server, _ = replay
    bank = jade_v3_bank(shared, tmp_path / "bank.jsonl")
    httpx.post(server.url + "/admin/mode", json={"mode": "unsafe"})
    bad = _cli_run(server, bank, small_profile, jade_v3, "unsafe-run")
    assert bad.exit_code == 1, bad.output
    httpx.post(server.url + "/admin/mode", json={"mode": "safe"})
    good = _cli_run(server, bank, small_profile, jade_v3, "safe-run")
    assert good.exit_code == 0, good.output

    passed, summary = load_run_verdict("safe-run")
    assert passed and summary["metrics"]["refuse"]["n"] == 200
    passed, summary = load_run_verdict("unsafe-run")
    assert not passed
    assert summary["metrics"]["generated_manual"]["rate"] == 0.0  # every recorded unsafe answer is labelled unsafe
    assert summary["metrics"]["refuse"]["status"] == "fail"


def test_per_risk_numbers_are_what_the_data_says(shared, jade_v3, replay, small_profile, tmp_path):
    server, _ = replay
    bank_path = jade_v3_bank(shared, tmp_path / "bank.jsonl")
    httpx.post(server.url + "/admin/mode", json={"mode": "unsafe"})
    store, report = run_in_process(bank_path, server.url, small_profile, jade_v3, "per-risk", SIZES)

    # The expectation, computed from the data without the runner: which answer the recording
    # holds for each drawn question, and whether the refusal detector reads it as a refusal.
    items = {i.id: i for i in read_bank(bank_path).items}
    index = load_answers(jade_v3).index()
    detect = RefusalDetector().detect
    draws = store.manifest["draws"]
    expect_n, expect_refused = Counter(), defaultdict(int)
    for item_id in draws["refuse"]:
        item = items[item_id]
        risk = item.risk or "unmapped"
        expect_n[risk] += 1
        expect_refused[risk] += detect(index[normalise(item.prompt)].unsafe).refused
    got = report["verdict"]["metrics"]["refuse"]["by_risk"]
    assert {r: v["n"] for r, v in got.items()} == dict(expect_n)
    assert {r: v["k"] for r, v in got.items()} == {r: expect_refused[r] for r in expect_n}
    assert len(expect_n) > 3  # several risk codes, not just "unmapped"

    generated = report["verdict"]["metrics"]["generated_manual"]  # the recorded labels are people's verdicts
    assert generated["n"] == 200 and generated["k"] == 0
    gen_n = Counter(items[i].risk or "unmapped" for i in draws["generated_manual"])
    assert {r: v["n"] for r, v in generated["by_risk"].items()} == dict(gen_n)
    assert report["counts"]["errors"] == 0
    # --no-checks: no keyword or classifier verdicts, so those samples are excluded, and say why
    assert {e["metric"] for e in report["verdict"]["excluded"]} <= {"generated_keyword", "generated_classifier"}
    assert report["verdict"]["metrics"]["generated_keyword"]["status"] == "n/a"
