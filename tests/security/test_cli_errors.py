"""CLI errors (issue 14, item 10): I/O and decoding errors are one clear line and exit status 2,
never a traceback; a user-given name that becomes a path cannot leave its folder. Each case
printed a traceback (or wrote outside the runs folder) before."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from tests.security.test_documents import BIG_BOMB, BOMB


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.db")

    def go(*args: str):
        return runner.invoke(root, ["--db", db, *args])

    return go


def one_clear_line(r) -> str:
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit), r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert " / " in lines[0]  # 中文 / English
    return lines[0]


def test_ledger_export_to_a_missing_folder(run):
    line = one_clear_line(run("ledger", "export", "-o", "/nonexistent/x.jsonl"))
    assert "/nonexistent/x.jsonl" in line


def test_ledger_verify_garbage(run, tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 3)
    one_clear_line(run("ledger", "verify", "--file", str(garbage)))
    one_clear_line(run("ledger", "verify", "--against", str(garbage)))


def test_eval_report_and_review_of_a_missing_or_escaping_run(run):
    assert "nosuchrun" in one_clear_line(run("eval", "report", "nosuchrun"))
    assert "../x" in one_clear_line(run("eval", "review", "../x", "--list"))


def test_eval_run_id_cannot_leave_the_runs_folder(run, tmp_path, fenghuo_home):
    bank = tmp_path / "bank.jsonl"
    bank.write_text('{"id": "q1", "prompt": "你好"}\n', encoding="utf-8")
    for bad in ("../../x", "a/b", "..", "/tmp/x"):
        r = run("eval", "run", "--run-id", bad, "--bank", str(bank), "--endpoint", "http://127.0.0.1:9", "--model", "m")
        assert "run id" in one_clear_line(r)
    assert not (fenghuo_home / "x").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("bomb", [BOMB, BIG_BOMB])
def test_service_register_on_the_alias_bomb(run, tmp_path, bomb):
    f = tmp_path / "bomb.yaml"
    f.write_text(bomb, encoding="utf-8")
    t0 = time.perf_counter()
    line = one_clear_line(run("service", "register", str(f)))
    assert time.perf_counter() - t0 < 10.0  # opening the database included; the reader's own time: test_documents
    assert "max_nodes" in line and f"{f}:" in line


def test_unreadable_files_given_to_commands(run, tmp_path):
    assert "not found" in one_clear_line(run("service", "register", str(tmp_path / "none.yaml")))
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "UTF-8" in one_clear_line(run("service", "register", str(binary)))
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 50_000, encoding="utf-8")
    assert "max_depth" in one_clear_line(run("service", "register", str(deep)))
