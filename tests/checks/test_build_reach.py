"""Reach heads in the build (``build/classifier_reach.py``, session 26): the reach rows train only the
reach columns, the columns come after the model's own (which stay as they are), and with no reach
head declared the build's model is the one it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fenghuo.checks.build import classifier_reach as cr
from fenghuo.checks.build.classifier_data import WRITTEN_ZH_DIR, Row, written_zh_files
from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.classifier.train import codes_of

TEXTS = ["出售冰毒，量大从优，私聊", "周末一起去看电影吧", "加微信领优惠券，全场五折", "这家店的红烧肉真不错"]


def _row(text: str, labels=(), source: str = "written_zh", split: str = "train") -> Row:
    return Row(text, frozenset(labels), source, split)


def test_the_build_declares_no_reach_head_and_keeps_the_model():
    assert cr.REACH_HEADS == {}
    m = Model.load(shipped_model_path())
    assert cr.add_reach(m, [], print) == (m, {})  # nothing fitted, nothing recorded
    assert "reach" not in m.meta and not any(c.endswith("~reach") for c in m.categories)


def test_reach_rows_are_no_input_of_the_other_heads():
    assert cr.REACH_DIR != WRITTEN_ZH_DIR and cr.REACH_DIR.parent == WRITTEN_ZH_DIR.parent
    assert not set(written_zh_files()) & set(cr.reach_files())


def test_reach_rows_join_the_written_rows_once(tmp_path: Path):
    (tmp_path / "r.jsonl").write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in [{"labels": ["drugs"], "text": "出售冰毒"}, {"labels": [], "text": "周末看电影"}]), encoding="utf-8"
    )
    rows = cr.with_reach_rows([_row("周末看电影", source="cold", split="test")], tmp_path)
    assert [(r.text, r.source) for r in rows] == [("周末看电影", "cold"), ("出售冰毒", "written_zh")]  # a held-out text stays held out
    (tmp_path / "bad.jsonl").write_text('{"labels": ["drug"], "text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1: unknown labels"):
        cr.with_reach_rows([], tmp_path)


def test_attached_columns_follow_the_model_and_bind_as_reach_heads(tmp_path: Path):
    m = Model.load(shipped_model_path())
    k = len(m.categories)
    w = m.weights[:, [m.categories.index("drugs")]].copy()
    new = cr.attach(m, {"drugs": 0.3}, w, np.array([m.bias[m.categories.index("drugs")] + 3.0]))
    assert new.categories == m.categories + ["drugs~reach"] and new.meta["reach"] == {"drugs~reach": 0.3}
    assert np.array_equal(new.weights[:, :k], m.weights) and np.array_equal(new.bias[:k], m.bias) and new.thresholds == m.thresholds
    assert np.array_equal(new.word_weights[:, :k], m.word_weights) and not new.word_weights[:, k:].any()
    check, shipped = ClassifierCheck(new.save(tmp_path / "r.npz"), reload_interval=0), ClassifierCheck(shipped_model_path(), reload_interval=0)
    assert check._bound.k == k
    for t in TEXTS:
        assert check.scores(t) == shipped.scores(t), t  # the model's own scores are the shipped ones
    assert any(f.rule.endswith("~reach") for t in TEXTS for f in check.find_in(t, check.normaliser.normalise(t)))


def test_fit_reach_trains_only_its_heads_on_the_train_split():
    rows = [_row(t, ["drugs"]) for t in ("出售冰毒，私聊", "大麻货到付款", "冰毒量大从优", "摇头丸私聊")]
    rows += [_row(t) for t in ("周末看电影", "红烧肉真不错", "明天下雨吗", "快递到了", "开会改到三点")]
    rows += [_row("冰毒冰毒冰毒", ["drugs"], split="test"), _row("完全无关的测试文本", ["ads"])]  # held out; a related category
    w, b = cr.fit_reach(rows, ["drugs"], lambda s: None)
    assert w.shape == (1 << 18, 1) and b.shape == (1,)
    assert np.array_equal(w, w.astype(np.float16).astype(np.float32))  # stored as the package stores weights
    m = cr.attach(Model.load(shipped_model_path()), {"drugs": 0.5}, w, b)
    drugs, harmless = (dict(zip(m.categories, m.probs_codes(c))) for c in codes_of(["冰毒私聊", "周末看电影"]))
    assert drugs["drugs~reach"] > harmless["drugs~reach"]
