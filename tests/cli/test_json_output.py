"""Scripting (issue 15): with --json only JSON on stdout, a refusal or usage error as one JSON
object on stderr with a code, and a cap on the findings one scanned text prints."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from fenghuo.cli import root


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("FENGHUO_DB", str(tmp_path / "cli.db"))
    for k in ("FENGHUO_SERVER", "FENGHUO_TOKEN", "FENGHUO_CONFIG"):
        monkeypatch.delenv(k, raising=False)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(root, list(args), catch_exceptions=False, **kw)


def _one_error(stderr: str) -> dict:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    err = json.loads(lines[0])["error"]
    assert err["code"] and err["message"]
    return err


def test_a_refusal_with_json_is_one_json_object_on_stderr(run):
    r = run("status", "no-such-service", "--json")
    assert r.exit_code == 1 and r.stdout == ""
    assert _one_error(r.stderr)["code"] == "unknown_service"
    r = run("status", "no-such-service")  # without --json: the bilingual line as before
    assert r.exit_code == 1 and "refused (unknown_service)" in r.stderr


def test_a_usage_error_with_json_is_json_too(run):
    r = run("service", "list", "--json", "--grade", "L9", "--bogus")
    assert r.exit_code == 2 and r.stdout == ""
    assert _one_error(r.stderr)["code"] == "usage"


def _json_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _json_commands(cmd, (*prefix, name))
        elif any(p.name == "as_json" for p in cmd.params):
            yield (*prefix, name), cmd


# Each loads every shipped check (~45 s on a loaded machine); scan's JSON is tested below with a
# small pipeline, coverage takes no input that could be bogus.
SLOW = {"checks coverage", "scan"}


def test_every_json_command_fails_in_json(run, tmp_path):
    """Each --json command, given a bogus value for every required argument and option, answers
    with JSON only: nothing but JSON on stdout and, if it failed, one JSON error on stderr."""
    checked = []
    for path, cmd in _json_commands(root):
        if " ".join(path) in SLOW:
            continue
        args = [*path]
        for p in cmd.params:
            if isinstance(p, click.Argument) and p.required:
                args.append(str(tmp_path / "missing-input"))
            elif isinstance(p, click.Option) and p.required:
                args += [p.opts[0], str(tmp_path / "missing-input")]
        r = run(*args, "--json", input="")
        checked.append(" ".join(path))
        if r.stdout.strip():
            try:
                json.loads(r.stdout)
            except ValueError:
                for line in r.stdout.splitlines():  # JSON lines (scan) are JSON too
                    json.loads(line)
        if r.exit_code not in (0, 1) or r.stderr.strip():
            assert r.stderr.strip(), f"{' '.join(path)} exited {r.exit_code} with nothing on stderr"
            _one_error(r.stderr)
    assert len(checked) >= 25, checked


def test_scan_json_caps_findings_per_text(run, tmp_path):
    (tmp_path / "w.txt").write_text("特别词\tcrime\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("checks:\n  - {type: lexicon, files: [w.txt]}\n", encoding="utf-8")
    many = "特别词，" * 130
    d = json.loads(run("scan", "--config", str(cfg), "--json", many).stdout)
    assert len(d["findings"]) == 100 and d["findings_more"] == 30 and d["verdict"] == "block"
    d = json.loads(run("scan", "--config", str(cfg), "--json", "--max-findings", "3", many).stdout)
    assert len(d["findings"]) == 3 and d["findings_more"] == 127
    d = json.loads(run("scan", "--config", str(cfg), "--json", "特别词").stdout)
    assert len(d["findings"]) == 1 and "findings_more" not in d
