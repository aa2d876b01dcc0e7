"""The command line, locally and against a server with a token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.platform.db import open_database

REGISTRY = Path(__file__).resolve().parents[2] / "src" / "fenghuo" / "demo" / "registry.yaml"


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db_path = str(tmp_path / "cli.db")

    def invoke(*args, server=None, token=None):
        opts = ["--server", server, "--token", token] if server else ["--db", db_path]
        return runner.invoke(root, [*opts, *args], catch_exceptions=False)

    invoke.db_path = db_path
    return invoke


def test_register_list_show_pause_status(run):
    r = run("service", "register", str(REGISTRY))
    assert r.exit_code == 0 and "zhiyi-triage: registered, grade L3" in r.output
    listed = json.loads(run("service", "list", "--json").output)
    assert {v["id"]: v["grade"]["grade"] for v in listed}["xuebao-grader"] == "L4"
    show = run("service", "show", "hanse-screen").output
    assert "grade: high" in show and "Annex III" in show
    r = run("pause", "zhiyi-chat", "--reason", "投诉激增 complaints spiking")
    assert r.exit_code == 0 and "paused" in r.output
    assert "paused" in run("status", "zhiyi-chat").output


def test_refusals_exit_nonzero_with_a_bilingual_line(run):
    run("service", "register", str(REGISTRY))
    run("pause", "zhiyi-chat", "--reason", "x")
    r = run("resume", "zhiyi-chat", "--reason", "fixed")
    assert r.exit_code == 1 and "recovery_required" in r.output and "恢复" in r.output
    r = run("pause", "no-such-service", "--reason", "x")
    assert r.exit_code == 1 and "unknown service" in r.output
    r = run("throttle", "zhiyi-chat", "--reason", "x")  # click: --rate missing
    assert r.exit_code == 2


def test_malformed_registration_names_file_line_field(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nprovider: zhiyi\nsector: general\nfunction: guessing\nmodalities: [text]\nreach: 1\nno_human_in_loop: false\n")
    r = run("service", "register", str(bad))
    assert r.exit_code == 1 and f"{bad}:5" in r.output and "function" in r.output


def test_ledger_verify_export_checkpoint(run, tmp_path):
    run("service", "register", str(REGISTRY))
    cp, out = tmp_path / "cp.json", tmp_path / "ledger.jsonl"
    assert run("ledger", "checkpoint", "-o", str(cp)).exit_code == 0
    assert run("ledger", "export", "-o", str(out)).exit_code == 0
    assert run("ledger", "verify").exit_code == 0
    r = run("ledger", "verify", "--against", str(cp))
    assert r.exit_code == 0 and "✓" in r.output
    assert run("ledger", "verify", "--file", str(out), "--against", str(cp)).exit_code == 0


def test_against_a_server_with_a_token(run):
    run("service", "register", str(REGISTRY))
    token = run("token", "create", "--name", "zhiyi-ops", "--role", "operator", "--provider", "zhiyi").output.strip()
    assert token.startswith("fh_")
    db = open_database(run.db_path)
    with ServerThread(db) as server:
        r = run("status", "--json", server=server.url, token=token)
        assert r.exit_code == 0 and {s["service"] for s in json.loads(r.output)} == {"zhiyi-triage", "zhiyi-chat"}
        assert "zhiyi-triage" in run("status", server=server.url, token=token).output
        r = run("stop", "zhiyi-chat", "--reason", "switch test", server=server.url, token=token)
        assert r.exit_code == 0 and "stopped" in r.output
        r = run("pause", "xuebao-tutor", "--reason", "not ours", server=server.url, token=token)
        assert r.exit_code == 1 and "forbidden" in r.output
        r = run("status", server=server.url, token="fh_bad")
        assert r.exit_code == 1 and "unauthorized" in r.output
    db.dispose()
