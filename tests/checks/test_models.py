"""The shipped classifier (src/fenghuo/checks/shipped/): it loads without shared data, detects
held-out examples, and its manifest records the inputs `make models` reads."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from fenghuo.checks.build import MANIFEST_FORMAT, file_record, load_manifest, shipped_dir
from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.pipeline import load_pipeline


def _data() -> Path | None:
    d = os.environ.get("FENGHUO_DATA")
    return Path(d) if d and Path(d).is_dir() else None


@pytest.fixture(scope="module")
def shipped():
    return ClassifierCheck(shipped_model_path(), reload_interval=0)


def test_manifest_describes_the_shipped_model():
    m = load_manifest()
    assert m["format"] == MANIFEST_FORMAT
    entry = m["steps"]["classifier"]
    art = {a["path"]: a for a in entry["artefacts"]}
    path = shipped_dir() / "classifier.npz"
    assert art["classifier.npz"]["bytes"] == path.stat().st_size
    from fenghuo.checks.build import sha256_file

    assert art["classifier.npz"]["sha256"] == sha256_file(path)
    model = Model.load(path)
    assert model.thresholds == entry["thresholds"]
    assert set(model.categories) == set(entry["settings"]["categories"])
    # Everything shipped together stays small (the artefacts are committed).
    total = sum(p.stat().st_size for p in shipped_dir().iterdir() if p.is_file())
    assert total < 12 * 2**20, total
    for rec in entry["inputs"]:
        assert not rec["path"].startswith("/") and len(rec["sha256"]) == 64


def test_packaged_default_uses_the_shipped_classifier_without_training(tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_HOME", str(tmp_path))  # no user-trained model anywhere
    monkeypatch.delenv("FENGHUO_CHECKS_CONFIG", raising=False)
    pipe = load_pipeline()
    assert "classifier" in pipe.names and not pipe.notes
    v = pipe.scan("兼职刷单，日结200，一单一结，加微信 abc8899")
    assert "ads" in v.categories
    assert pipe.scan("今天中午吃了火锅，味道还不错").findings == []


def test_scores_cover_every_category_and_findings_follow_thresholds(shipped):
    text = "出售冰毒，纯度高，货到付款，联系 vx: ly5566"
    n = shipped.normaliser.normalise(text)
    scores = shipped.scores_in(text, n)
    assert set(scores) == set(shipped.categories()) and len(scores) >= 10
    assert all(0.0 <= p <= 1.0 for p in scores.values())
    found = {f.category: f for f in shipped.find_in(text, n)}
    assert "drugs" in found and found["drugs"].risk == "A1h"
    for cat, p in scores.items():
        assert (cat in found) == (p >= shipped.model.thresholds[cat] - 1e-4), (cat, p)


@pytest.mark.parametrize(
    "text, category",
    [
        ("百家乐首充送100%，提现秒到，网址 ff626.top", "gambling"),
        ("同城约炮，可上门，加 vx: ly5566", "porn"),
        ("您的银行账户存在异常，请立即点击链接验证，否则将冻结", "fraud"),
        ("你个傻逼，滚远点", "offensive"),
    ],
)
def test_shipped_model_detects_typical_messages(shipped, text, category):
    assert category in {f.category for f in shipped.scan(text).findings}


@pytest.mark.parametrize("text", ["我们应该避免对女性的歧视", "不应该歧视外地人", "警方提醒：电信诈骗高发，请勿向陌生账户转账", "作为AI助手，我不能提供赌博相关的帮助"])
def test_shipped_model_passes_anti_bias_warnings_and_refusals(shipped, text):
    assert shipped.scan(text).findings == [], shipped.scores(text)


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_build_inputs_match_the_manifest():
    """What `make models` reads today is what the shipped model was built from (same sha256)."""
    from fenghuo.checks.build.classifier_data import load_rows

    data = _data()
    _, inputs = load_rows(data)
    now = [file_record(data, data / rel) for rel in inputs]
    assert now == load_manifest()["steps"]["classifier"]["inputs"]


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_shipped_model_on_held_out_rows(shipped):
    """Held-out rows (never trained or calibrated on): COLD dev, CValues' held-out half, JADE."""
    from fenghuo.checks.build.classifier_data import load_rows

    rows, _ = load_rows(_data())
    test = [r for r in rows if r.split == "test"]

    def flagged(rs):
        return np.array([bool(shipped.scan(r.text).findings) for r in rs])

    cold = [r for r in test if r.source == "cold"]
    pred, y = flagged(cold), np.array([bool(r.labels) for r in cold])
    assert len(cold) > 6000
    assert pred[y].mean() > 0.65  # recall of offensive rows
    assert pred[~y].mean() < 0.04  # harmless COLD dev rows flagged
    cv = [r for r in test if r.source == "cvalues"]
    assert len(cv) > 200 and flagged(cv).mean() < 0.12
    jade = [r for r in test if r.source == "jade"]
    assert len(jade) > 100 and flagged(jade).mean() > 0.7


def test_manifest_json_is_valid_and_sorted():
    text = (shipped_dir() / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text)["steps"]["classifier"]["figures"]["cold_dev"]["n"] > 0


def test_word_table_is_recorded_and_its_dictionary_is_the_installed_one():
    """A shipped model that reads words carries its table; the manifest names the jieba dictionary
    it came from, and `make models` on a clean checkout reads the same one (jieba is a dependency)."""
    model = Model.load(shipped_model_path())
    if model.words is None:
        pytest.skip("the shipped model has no word table")
    from fenghuo.checks.build import sha256_file
    from fenghuo.checks.classifier.words import jieba_dictionary

    words = load_manifest()["steps"]["classifier"]["settings"]["words"]
    assert words["count"] == len(model.words) and words["bits"] == model.words.bits
    assert words["dictionary_sha256"] == sha256_file(jieba_dictionary())
    assert model.meta["word_categories"] == words["categories"]
    assert not model.word_weights[:, [model.categories.index(c) for c in model.categories if c not in words["categories"]]].any()


def test_build_environment_is_recorded_and_this_machine_reproduces_its_solver_or_says_why():
    """The classifier's numbers depend on the BLAS kernel liblinear calls (OpenBLAS picks one per
    processor) and on library versions, not only on code and data: the manifest records them with a
    fingerprint of the regression (``solver_fingerprint``, two small fits). Same environment but
    another fingerprint: our fitting code changed the numbers, so the shipped model no longer
    rebuilds (fail); another environment: `make models` here would not give the shipped bytes (skip,
    saying what differs; the build warns the same)."""
    from fenghuo.checks.build.environment import environment, environment_differences

    recorded = load_manifest()["steps"]["classifier"]["settings"]["environment"]
    assert {"numpy", "scipy", "scikit-learn", "jieba", "scipy_blas", "blas_threads", "solver_fingerprint"} <= set(recorded)
    now = environment()
    if now["solver_fingerprint"] == recorded["solver_fingerprint"]:
        return
    diff = environment_differences(recorded, now)
    assert [d for d in diff if not d.startswith("solver_fingerprint")], f"same environment, other solver numbers: the fit changed; rebuild ({diff})"
    pytest.skip(f"the shipped classifier was built elsewhere; make models here would not reproduce it byte for byte: {'; '.join(diff)}")


def test_solver_fingerprint_is_deterministic_and_differences_are_named():
    from fenghuo.checks.build.environment import environment_differences, solver_fingerprint

    assert solver_fingerprint() == solver_fingerprint()
    assert environment_differences({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ["b: 2 -> 3"]
    assert environment_differences(None, {"a": 1}) == ["no build environment recorded"]
