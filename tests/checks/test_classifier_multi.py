"""Multi-label training on a user's own data, its readers' errors, and the missing-model message."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.data import read_dataset
from fenghuo.checks.classifier.train import calibrate, train_multi
from fenghuo.cli import root

from .conftest import write

PORN = ["同城约炮{}号，可上门", "高清无码视频{}部，免费看", "一对一裸聊{}分钟"]
GAMB = ["百家乐首充送{}%", "时时彩稳赚不赔{}倍", "网上赌场注册送{}元"]
BOTH = ["约炮加百家乐套餐{}元", "裸聊送时时彩彩金{}"]
SAFE = ["今天天气很好{}度", "我在学习编程第{}天", "周末去公园散步{}次", "谢谢你的帮助{}"]


def _rows():
    rows = []
    for i in range(25):
        rows += [(t.format(i), "porn") for t in PORN] + [(t.format(i), "gambling") for t in GAMB]
        rows += [(t.format(i), "porn|gambling") for t in BOTH] + [(t.format(i), "") for t in SAFE]
    return rows


def test_multi_label_training_learns_each_category(tmp_path):
    rows = _rows()
    texts = [t for t, _ in rows]
    labels = [frozenset(x for x in lab.split("|") if x) for _, lab in rows]
    model = train_multi(texts, labels)
    assert model.categories == ["gambling", "porn"]
    calibrate(model, texts, labels, 0.0)
    check = ClassifierCheck(model.save(tmp_path / "m.npz"), reload_interval=0)
    cats = lambda t: {f.category for f in check.scan(t).findings}  # noqa: E731
    assert cats("同城约炮，可上门") == {"porn"}
    assert cats("百家乐首充送100%") == {"gambling"}
    assert cats("约炮加百家乐套餐") == {"porn", "gambling"}
    assert cats("今天天气很好") == set()
    s = check.scores("百家乐首充送100%")
    assert set(s) == {"porn", "gambling"} and s["gambling"] > 0.5 > s["porn"]


def test_cli_trains_on_jsonl_with_label_lists_and_the_config_can_use_it(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    lines = [json.dumps({"text": t, "labels": [x for x in lab.split("|") if x]}, ensure_ascii=False) for t, lab in _rows()]
    write(d / "train.jsonl", "\n".join(lines) + "\n")
    write(d / "dev.jsonl", "\n".join(lines[::3]) + "\n")
    out = tmp_path / "m.npz"
    r = CliRunner().invoke(root, ["classifier", "train", "--data", str(d), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "gambling, porn" in r.output and "category" in r.output  # progress per category (stderr is mixed in)
    cfg = write(tmp_path / "c.yaml", f"checks:\n  - {{type: classifier, model: {out}, reload_interval: 0}}\n")
    from fenghuo.checks.pipeline import load_pipeline

    v = load_pipeline(cfg).scan("时时彩稳赚不赔")
    assert v.categories == ["gambling"] and v.risks == ["A1h"]


def test_csv_with_labels_column(tmp_path):
    f = write(tmp_path / "t.csv", "text,labels\n约炮,porn|gambling\n天气好,\n赌,gambling\n好人,safe\n")
    texts, labels = read_dataset(f)
    assert texts == ["约炮", "天气好", "赌", "好人"]
    assert labels == [frozenset({"porn", "gambling"}), frozenset(), frozenset({"gambling"}), frozenset()]


@pytest.mark.parametrize(
    "name, body, message",
    [
        ("a.jsonl", '{"text": "x", "labels": ["porn"]}\n{"text": "y"\n', "a.jsonl:2: not JSON"),
        ("b.jsonl", '{"text": "x", "labels": ["porn"]}\n{"labels": ["porn"]}\n', "b.jsonl:2: expected an object with a string 'text'"),
        ("c.jsonl", '{"text": "x"}\n', "c.jsonl:1: no 'labels' or 'label'"),
        ("d.jsonl", '{"text": "x", "labels": ["色情"]}\n', "d.jsonl:1: label must be 0 or 1 or category names"),
        ("e.csv", "text,labels\n好,porn\n坏,Porn Hub!\n", "e.csv:3: label must be 0 or 1 or category names"),
        ("f.csv", "text,labels\n好,porn\n坏\n", "f.csv:3: 1 column(s), expected 2"),
        ("g.csv", "words,tags\n好,porn\n", "needs columns 'label' (or 'labels') and 'text'"),
        ("h.jsonl", "\n\n", "h.jsonl: no labelled rows"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, name, body, message):
    f = write(tmp_path / name, body)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_dataset(f)


def test_cli_bad_file_is_one_clear_error(tmp_path):
    f = write(tmp_path / "train.jsonl", '{"text": "x", "labels": ["porn"]}\nnot json\n')
    r = CliRunner().invoke(root, ["classifier", "train", "--data", str(f), "--out", str(tmp_path / "m.npz")])
    assert r.exit_code != 0 and "train.jsonl:2: not JSON" in r.output and "Traceback" not in r.output


def test_training_needs_a_positive_and_a_harmless_row(tmp_path):
    f = write(tmp_path / "t.csv", "text,labels\n好,\n坏,\n")
    r = CliRunner().invoke(root, ["classifier", "train", "--data", str(f), "--out", str(tmp_path / "m.npz")])
    assert r.exit_code != 0 and "no positive rows" in r.output
    with pytest.raises(ValueError, match="needs both positive and negative rows"):
        train_multi(["a", "b"], [frozenset({"porn"}), frozenset({"porn"})])


def test_missing_model_is_one_clear_line(tmp_path):
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: classifier, model: nowhere/m.npz}\n")
    with pytest.raises(ConfigError) as e:
        load_pipeline(cfg)
    msg = str(e.value)
    assert "no such classifier model" in msg and "Errno" not in msg and "\n" not in msg
    r = CliRunner().invoke(root, ["scan", "--config", str(cfg), "hello"])
    # scan goes on without the check (the pipeline's degraded mode) and says so in one line.
    lines = [ln for ln in r.output.splitlines() if "no such classifier model" in ln]
    assert len(lines) == 1 and "Errno" not in r.output and "Traceback" not in r.output, r.output


def test_float16_storage_scores_like_float32(tmp_path):
    rows = _rows()
    model = train_multi([t for t, _ in rows], [frozenset(x for x in lab.split("|") if x) for _, lab in rows])
    from fenghuo.checks.classifier.model import Model
    from fenghuo.checks.normalize import default_normaliser

    loaded = Model.load(model.save(tmp_path / "m.npz"))
    for t in ["百家乐首充送100%", "今天天气很好", "同城约炮"]:
        c = default_normaliser().normalise(t).codes
        assert np.allclose(loaded.probs_codes(c), model.probs_codes(c), atol=2e-3)


@pytest.mark.parametrize("score", [0.8075230257907474, 0.38504, 0.50004, 0.91234567])
def test_a_calibrated_threshold_never_drops_below_the_harmless_score_it_excludes(score):
    """The threshold is ``nextafter`` of the highest harmless score the budget excludes, stored
    with 4 decimals: rounded to nearest it fell below that score (the shipped crime threshold
    0.8075 flagged a CValues val prompt scoring 0.807523 that calibration had excluded)."""
    from fenghuo.checks.classifier.model import Model

    cats = ["crime"]
    model = Model(np.zeros((8, 1), dtype=np.float32), np.zeros(1), 3, 3, {}, cats)
    probs = np.array([[score], [0.1], [0.2], [0.99995], [0.999999]])
    labels = [frozenset(), frozenset(), frozenset(), frozenset({"crime"}), frozenset({"crime"})]
    calibrate(model, ["a", "b", "c", "d", "e"], labels, 0.0, probs=probs)
    t = model.thresholds["crime"]
    assert t > score and t == round(t, 4)
    if score > 0.5:  # the budget decides (below 0.5 the threshold stays at 0.5): up by one step at most
        assert t - score <= 1e-4 + 1e-12
