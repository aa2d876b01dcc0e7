"""`fenghuo checks evaluate` on small labelled files whose right answers are worked out by hand."""

import json

import pytest
from click.testing import CliRunner

from fenghuo.checks.evaluate import calibrate
from fenghuo.checks.labelled import read_labelled
from fenghuo.cli import root

from .conftest import write

LEXICON = "赌博\tgambling\n"


def _config(tmp_path):
    write(tmp_path / "w.txt", LEXICON)
    return write(tmp_path / "c.yaml", "checks:\n  - {type: lexicon, files: [w.txt]}\n  - {type: pii}\n")


def _evaluate(tmp_path, data, *extra):
    r = CliRunner().invoke(root, ["checks", "evaluate", "--config", str(_config(tmp_path)), "--data", str(data), "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.output[r.output.index("{"):])


def test_confusion_matrix_fpr_and_per_category_on_a_generic_csv(tmp_path):
    data = write(tmp_path / "d.csv", "text,label\n我要赌博,gambling\n今天天气很好,0\n电话13800138000,0\n他是个好人,1\n赌博网站,gambling\n")
    d = _evaluate(tmp_path, data)
    assert d["format"] == "csv" and (d["rows"], d["harmful"], d["harmless"]) == (5, 3, 2)
    assert d["confusion"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 1}
    assert (d["precision"], d["recall"], d["fpr"]) == (0.6667, 0.6667, 0.5)
    assert d["per_category"]["gambling"] == {"support": 2, "precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 2, "fp": 0, "fn": 0}
    assert d["harmless_hits"] == {"pii.mobile": 1}
    # the PII hit scores 1.0: no threshold gets harmless FPR to 3 %, and the report says so
    assert d["calibration"]["reachable"] is False and d["calibration"]["floor_fpr"] == 0.5
    d = _evaluate(tmp_path, data, "--on", "block")  # only blocks count: masked PII is no longer a false positive
    assert d["confusion"] == {"tp": 2, "fp": 0, "fn": 1, "tn": 2} and d["fpr"] == 0.0


def test_formats_cold_jsonl_labels_and_jade(tmp_path):
    cold = write(tmp_path / "cold.csv", "\ufeff,split,topic,label,TEXT\n1,dev,race,1,去赌博吧\n2,dev,race,0,你好\n")
    d = _evaluate(tmp_path, cold)
    assert d["format"] == "cold" and d["confusion"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1} and d["per_category"] == {}
    jl = write(tmp_path / "d.jsonl", "\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"text": "赌博", "labels": ["gambling"]}, {"text": "你好", "labels": []}, {"text": "好", "label": "harmless"},
        {"text": "x", "label": "maybe|"}, {"text": 3, "label": 1},
    ]) + "\n")
    got = read_labelled(jl)
    assert [(r.harmful, r.labels) for r in got.rows] == [(True, ("gambling",)), (False, ()), (False, ()), (True, ("maybe",))]
    assert len(got.problems) == 1 and ":5:" in str(got.problems[0])
    jade = write(tmp_path / "j.csv", "ID,问题,违规类型,违规子类\n1,怎么赌博赢钱,违法犯罪,赌博\n")
    got = read_labelled(jade)
    assert got.fmt == "jade" and got.rows[0].harmful and got.rows[0].labels == ("A1h",)
    d = _evaluate(tmp_path, jade)
    assert d["per_category"]["A1h"]["tp"] == 1  # a risk-code label is matched against reported risks


def test_unlabelled_files_need_a_label_and_bad_files_are_refused_clearly(tmp_path):
    lines = write(tmp_path / "x.csv", "今天天气很好\n我想去赌博\n")
    r = CliRunner().invoke(root, ["checks", "evaluate", "--config", str(_config(tmp_path)), "--data", str(lines)])
    assert r.exit_code == 2 and "--label harmful|harmless" in r.output
    d = _evaluate(tmp_path, lines, "--label", "harmless")
    assert d["format"] == "lines" and d["harmless"] == 2 and d["fpr"] == 0.5
    empty = write(tmp_path / "e.jsonl", '{"text": "a"}\n')
    r = CliRunner().invoke(root, ["checks", "evaluate", "--data", str(empty)])
    assert r.exit_code == 2 and "e.jsonl" in r.output and "no usable rows" in r.output


def test_calibrated_threshold_meets_the_target_fpr():
    harmless = [i / 100 for i in range(100)]
    harmful = [0.5 + i / 200 for i in range(100)]
    c = calibrate(harmless, harmful, 0.05)
    assert c["threshold"] == 0.9401 and c["fpr"] == 0.05 and c["reachable"]
    assert c["recall"] == pytest.approx(sum(1 for s in harmful if s >= 0.9401) / 100)
    c = calibrate([0.0, 0.1], [0.9], 0.5)  # one harmless row may count
    assert c["fpr"] <= 0.5 and c["recall"] == 1.0


def test_category_names_that_sound_like_yes_no_are_categories(tmp_path):
    jl = write(tmp_path / "o.jsonl", '{"text": "a", "labels": ["offensive"]}\n{"text": "b", "label": "offensive"}\n'
                                      '{"text": "c", "labels": ["1"]}\n')
    got = read_labelled(jl)
    assert [(r.harmful, r.labels) for r in got.rows] == [(True, ("offensive",)), (True, ("offensive",))]
    assert len(got.problems) == 1 and str(got.problems[0]).count("o.jsonl:3") == 1  # where named once
