import json

from click.testing import CliRunner

from fenghuo.cli import root

from .conftest import write


def test_scan_text_and_json():
    r = CliRunner().invoke(root, ["scan", "我要赌博", "--json"])
    assert r.exit_code == 1, r.output  # blocked
    line = [ln for ln in r.output.splitlines() if ln.startswith("{")][0]
    d = json.loads(line)
    assert d["blocked"] and d["findings"][0]["category"] == "gambling"


def test_scan_stdin_reports_non_utf8_lines_and_continues():
    data = "你好\n".encode() + b"\xff\xfe bad\n" + "电话13800138000\n".encode()
    r = CliRunner().invoke(root, ["scan", "-"], input=data)
    assert r.exit_code == 2, r.output  # an unreadable line: the answer is incomplete
    assert "line 2: not UTF-8" in r.output
    assert "pii.mobile" in r.output and "PASS" in r.output


def test_scan_with_extra_lexicon(tmp_path):
    f = write(tmp_path / "l.txt", "特别词 crime\n")
    r = CliRunner().invoke(root, ["scan", "--lexicon", str(f), "一个特别词"])
    assert r.exit_code == 1 and "crime" in r.output  # crime blocks


def test_lexicon_stats_and_malformed_file(tmp_path):
    good = write(tmp_path / "g.txt", "赌博 3\n冰毒 1\n")
    r = CliRunner().invoke(root, ["lexicon", "stats", str(good), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["total"] == 2 and not d["ok"] and d["by_risk"]["A1h"] == 2
    bad = write(tmp_path / "b.txt", "赌博\t3\n冰毒\t99\n")
    r = CliRunner().invoke(root, ["lexicon", "stats", str(bad)])
    assert r.exit_code != 0 and "b.txt:2" in r.output


def test_scan_exit_status_says_whether_anything_was_blocked(tmp_path):
    run = CliRunner().invoke
    assert run(root, ["scan", "今天天气很好"]).exit_code == 0
    assert run(root, ["scan", "电话13800138000"]).exit_code == 0  # masked, not blocked
    assert run(root, ["scan", "我要赌博"]).exit_code == 1
    assert run(root, ["scan", "-"], input="你好\n我要赌博\n再见\n".encode()).exit_code == 1
    assert run(root, ["scan", "-"], input="你好\n再见\n".encode()).exit_code == 0
    assert run(root, ["scan", "-"], input=b"\xff\n" + "我要赌博\n".encode()).exit_code == 1  # a block outranks
    r = run(root, ["scan", "--config", str(tmp_path / "missing.yaml"), "x"])
    assert r.exit_code == 2 and "no such pipeline config" in r.output
    assert run(root, ["scan", "--no-such-option"]).exit_code == 2
    help_text = run(root, ["scan", "--help"]).output
    assert "Exit status" in help_text and "1  at least one" in help_text


def test_scan_exit_status_through_a_real_process():
    import subprocess
    import sys

    code = "from fenghuo.cli import root; root()"
    r = subprocess.run([sys.executable, "-c", code, "scan", "我要赌博"], capture_output=True)
    assert r.returncode == 1, r.stderr
    r = subprocess.run([sys.executable, "-c", code, "scan", "你好"], capture_output=True)
    assert r.returncode == 0, r.stderr
