import json

from click.testing import CliRunner

from fenghuo.cli import root

from .conftest import write


def test_scan_text_and_json():
    r = CliRunner().invoke(root, ["scan", "我要赌博", "--json"])
    assert r.exit_code == 0, r.output
    line = [ln for ln in r.output.splitlines() if ln.startswith("{")][0]
    d = json.loads(line)
    assert d["blocked"] and d["findings"][0]["category"] == "gambling"


def test_scan_stdin_reports_non_utf8_lines_and_continues():
    data = "你好\n".encode() + b"\xff\xfe bad\n" + "电话13800138000\n".encode()
    r = CliRunner().invoke(root, ["scan", "-"], input=data)
    assert r.exit_code == 0, r.output
    assert "line 2: not UTF-8" in r.output
    assert "pii.mobile" in r.output and "PASS" in r.output


def test_scan_with_extra_lexicon(tmp_path):
    f = write(tmp_path / "l.txt", "特别词 crime\n")
    r = CliRunner().invoke(root, ["scan", "--lexicon", str(f), "一个特别词"])
    assert r.exit_code == 0 and "crime" in r.output


def test_lexicon_stats_and_malformed_file(tmp_path):
    good = write(tmp_path / "g.txt", "赌博 3\n冰毒 1\n")
    r = CliRunner().invoke(root, ["lexicon", "stats", str(good), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["total"] == 2 and not d["ok"] and d["by_risk"]["A1h"] == 2
    bad = write(tmp_path / "b.txt", "赌博\t3\n冰毒\t99\n")
    r = CliRunner().invoke(root, ["lexicon", "stats", str(bad)])
    assert r.exit_code != 0 and "b.txt:2" in r.output
