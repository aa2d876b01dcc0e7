"""fenghuo.toml: precedence (flag > environment > file > default), one clear error per bad
file, `config show` with sources, completion scripts, and the environment variables listed
in --help and the README (issue 15)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.platform import config_file

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def run(monkeypatch, tmp_path):
    # No user configuration may leak in: the default file is looked for under a fresh directory.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for k in ("FENGHUO_SERVER", "FENGHUO_TOKEN", "FENGHUO_DB", "FENGHUO_CONFIG", "FENGHUO_WINDOWS", "FENGHUO_DATA"):
        monkeypatch.delenv(k, raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(root, list(args), env=env, catch_exceptions=False)

    return invoke


def _show(run, *args, env=None) -> dict:
    r = run(*args, "config", "show", "--json", env=env)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_precedence_flag_over_env_over_file_over_default(run, tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text('server = "http://file:1"\ntoken = "file-token-xyz"\ndb = "rel/x.db"\nwindows = ["1m", "5m"]\n')
    v = _show(run, "--config", str(cfg))["values"]
    assert v["server"] == {"value": "http://file:1", "source": "file", "env": "FENGHUO_SERVER", "flag": "--server"}
    assert v["db"]["value"] == str(tmp_path / "rel" / "x.db")  # relative to the file
    assert v["windows"]["value"] == "1m,5m" and v["windows"]["source"] == "file"
    assert v["token"]["value"] == "file… (14 chars)"  # secrets are never printed whole
    assert v["bus"] == {"value": None, "source": "default", "env": "FENGHUO_BUS"}

    cfg.chmod(0o644)
    r = run("--config", str(cfg), "config", "show")
    assert "readable by others (mode 644): chmod 600" in r.stderr
    cfg.chmod(0o600)
    assert "readable by others" not in run("--config", str(cfg), "config", "show").stderr
    v = _show(run, "--config", str(cfg), env={"FENGHUO_SERVER": "http://env:2"})["values"]
    assert (v["server"]["value"], v["server"]["source"]) == ("http://env:2", "env")
    v = _show(run, "--config", str(cfg), "--server", "http://flag:3", env={"FENGHUO_SERVER": "http://env:2"})["values"]
    assert (v["server"]["value"], v["server"]["source"]) == ("http://flag:3", "flag")


def test_default_file_in_the_user_config_dir_and_the_config_variable(run, tmp_path):
    default = tmp_path / "xdg" / "fenghuo" / "fenghuo.toml"
    default.parent.mkdir(parents=True)
    default.write_text('bus = "nats://a:4222"\n')
    out = _show(run)
    assert out["file"] == {"path": str(default), "exists": True, "chosen_by": "default"}
    assert out["values"]["bus"]["source"] == "file"
    other = tmp_path / "other.toml"
    other.write_text('bus = "nats://b:4222"\n')
    out = _show(run, env={"FENGHUO_CONFIG": str(other)})
    assert out["file"]["chosen_by"] == "FENGHUO_CONFIG" and out["values"]["bus"]["value"] == "nats://b:4222"


def test_file_values_reach_the_commands_and_are_undone_afterwards(run, tmp_path):
    db = tmp_path / "from-file.db"
    cfg = tmp_path / "f.toml"
    cfg.write_text(f'db = "{db}"\nwindows = "20s,1m"\n')
    r = run("--config", str(cfg), "db", "path")
    assert r.exit_code == 0 and str(db) in r.stdout.replace("\n", "")
    assert "FENGHUO_WINDOWS" not in os.environ and "FENGHUO_DB" not in os.environ


@pytest.mark.parametrize("body, key, problem", [
    ('sever = "http://x"\n', "sever", "did you mean 'server'?"),
    ('FENGHUO_TOKEN = "t"\n', "FENGHUO_TOKEN", "did you mean 'token'?"),
    ('max_events = "many"\n', "max_events", "must be an integer"),
    ('heartbeat_seconds = -1\n', "heartbeat_seconds", "must be greater than 0"),
    ('event_max_age = "soon"\n', "event_max_age", "not a duration"),
    ('server = ""\n', "server", "must not be empty"),
    ('[server]\nurl = "x"\n', "server", "a table is not allowed"),
    ('server = "x\n', None, "is not valid TOML"),
])
def test_a_bad_file_is_one_error_naming_file_key_and_problem(run, tmp_path, body, key, problem):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    r = run("--config", str(cfg), "status")
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(cfg) in lines[0] and problem in lines[0] and "configuration error" in lines[0]
    if key:
        assert f"{cfg}: {key}" in lines[0]
    r = run("--config", str(cfg), "status", "--json")  # the same error, as JSON for a script
    err = json.loads(r.stderr)["error"]
    assert r.exit_code == 2 and err["code"] == "config_invalid" and err["file"] == str(cfg) and err["key"] == key


def test_a_named_file_must_exist(run, tmp_path):
    r = run("--config", str(tmp_path / "nope.toml"), "status")
    assert r.exit_code == 2 and "does not exist (named by --config)" in r.stderr
    r = run("status", env={"FENGHUO_CONFIG": str(tmp_path)})
    assert r.exit_code == 2 and f"{tmp_path}: is not a file" in r.stderr


def test_template_is_a_valid_file_naming_every_key(run, tmp_path):
    r = run("config", "template")
    assert r.exit_code == 0
    for k in config_file.KEYS:
        assert f"# {k.name} = " in r.stdout
    uncommented = "\n".join(line[2:] for line in r.stdout.splitlines() if line.startswith("# ") and " = " in line
                            and line[2:].split(" = ")[0] in config_file.BY_NAME)
    cfg = tmp_path / "t.toml"
    cfg.write_text(uncommented.replace('"…"', '"1m"'))
    assert set(config_file.read(cfg)) == set(config_file.BY_NAME)


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files --command fenghuo")])
def test_completion_scripts(run, shell, marker):
    r = run("completion", shell)
    assert r.exit_code == 0 and marker in r.stdout and "_FENGHUO_COMPLETE" in r.stdout


def test_help_and_readme_list_every_environment_variable(run):
    r = run("--help")
    readme = README.read_text(encoding="utf-8")
    for k in config_file.KEYS:
        assert k.env in r.stdout, k.env
        assert k.env in readme, f"README does not mention {k.env}"
    assert "fenghuo.toml" in r.stdout and "FENGHUO_CONFIG" in r.stdout and "completion" in r.stdout
    for word in ("fenghuo.toml", "fenghuo config show", "fenghuo completion"):
        assert word in readme, word
