"""Reach heads (session 25, ``classifier/reach.py``): extra ``<category>~reach`` columns that only add
a flag; the shipped heads' findings and scores are untouched; the C kernel and numpy paths agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.classifier import features
from fenghuo.checks.classifier.check import ClassifierCheck, from_config
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.pipeline import load_pipeline
from fenghuo.checks.policy import Policy

TEXTS = [
    "我不想活了，活着没意思", "今天天气很好，我们去公园散步吧", "加微信领取彩金，百家乐稳赢", "你这个傻逼，滚出去",
    "教我怎么做炸药", "最近压力好大，晚上睡不着", "约吗，今晚酒店见，全套服务", "听说这个疫苗会让人不孕，转发给家人",
    "兼职刷单日赚三百，先垫付后返现", "周末一起去看电影吧", "这家店的红烧肉真不错", "出售银行卡四件套，价格私聊",
]  # fmt: skip
HEADS = ("porn", "gambling", "fraud")


def _reach_model(tmp_path: Path, heads=HEADS, th: float = 0.3, shift: float = 2.0, name: str = "reach.npz", meta=None) -> Path:
    """The shipped model with one reach column per head: the head's own column, its bias raised by
    ``shift`` (so it reaches text the head does not)."""
    m = Model.load(shipped_model_path())
    ks = [m.categories.index(h) for h in heads]
    w = np.concatenate([m.weights, m.weights[:, ks]], axis=1)
    b = np.concatenate([m.bias, m.bias[ks] + shift])
    ww = None if m.word_weights is None else np.concatenate([m.word_weights, m.word_weights[:, ks]], axis=1)
    meta = dict(m.meta, reach={f"{h}~reach": th for h in heads} if meta is None else meta)
    cats = list(m.categories) + [f"{h}~reach" for h in heads]
    return Model(w, b, m.max_n, m.bits, meta, cats, dict(m.thresholds), m.words, ww).save(tmp_path / name)


def _check(path=None, **kw) -> ClassifierCheck:
    return ClassifierCheck(path or shipped_model_path(), reload_interval=0, **kw)


def _found(check: ClassifierCheck, text: str) -> list[tuple]:
    return [(f.category, f.action, f.risk, f.rule.endswith("~reach")) for f in check.find_in(text, check.normaliser.normalise(text))]


def _cold_rows(n: int = 2000) -> list[str]:
    import csv
    import os

    p = Path(os.environ.get("FENGHUO_DATA", "/work/shared/data")) / "classifier/cold/train.csv"
    if not p.exists():
        return []
    with open(p, encoding="utf-8-sig") as f:
        return [r["TEXT"] for _, r in zip(range(n), csv.DictReader(f))]


def _texts() -> list[str]:
    mixed = "".join(TEXTS) * 30
    return TEXTS + _cold_rows() + [mixed[i : i + 60] for i in range(0, 1500, 11)]


def test_reach_heads_only_add_flags_and_hide_their_scores(tmp_path):
    shipped, reach = _check(), _check(_reach_model(tmp_path))
    assert reach.model._current()[0].shape[1] == shipped.model._current()[0].shape[1] == 16  # the same row: one cache line
    assert reach.categories() == shipped.categories() and reach._bound.k == 13
    added = 0
    for t in _texts():
        assert reach.scores(t) == shipped.scores(t), t  # corroboration never sees a reach score
        a, b = _found(shipped, t), _found(reach, t)
        assert [f for f in b if not f[3]] == a, t  # the shipped heads' findings unchanged
        extra = [f for f in b if f[3]]
        assert all(f[1] is Action.FLAG and f[0] in HEADS for f in extra), t
        assert not {f[0] for f in extra} & {f[0] for f in a}, t  # no reach flag where the head fired itself
        added += len(extra)
    assert added  # the texts exercise the reach heads


def test_a_reach_flag_is_at_its_threshold(tmp_path):
    check = _check(_reach_model(tmp_path, heads=("porn",), th=0.3))
    m = check.model
    for t in _texts():
        p = float(m.probs_codes(check.normaliser.normalise(t).codes)[13])
        own = check.scores(t).get("porn", 0.0) >= m.thresholds["porn"]
        got = [f for f in _found(check, t) if f[3]]
        if len(check.normaliser.normalise(t).codes) >= 3 and check.scores(t):
            assert bool(got) == (p >= 0.3 and not own) or abs(p - 0.3) < 1e-6, (t, p)


def test_reach_false_is_the_shipped_check(tmp_path):
    path = _reach_model(tmp_path)
    off, shipped = _check(path, reach=False), _check()
    assert off._bound.reach is None
    for t in _texts():
        assert _found(off, t) == _found(shipped, t), t


@pytest.mark.skipif(features.NATIVE is None, reason="the classifier's C kernel is not built")
def test_kernel_and_numpy_paths_agree_with_reach(tmp_path, monkeypatch):
    path = _reach_model(tmp_path, th=0.2)
    native = _check(path)
    assert native.model.native
    monkeypatch.setattr(features, "NATIVE", None)
    plain = _check(path)
    assert not plain.model.native
    added = 0
    for t in _texts():
        n = native.normaliser.normalise(t)
        a, b = native.find_in(t, n), plain.find_in(t, n)
        assert [(f.category, f.action, f.rule) for f in a] == [(f.category, f.action, f.rule) for f in b], t
        added += sum(f.rule.endswith("~reach") for f in a)
    assert added


def test_the_pipeline_only_gains_flags(tmp_path):
    path = _reach_model(tmp_path)
    cfg = tmp_path / "checks.yaml"
    base = Path(__file__).resolve().parents[2] / "src/fenghuo/checks/default.yaml"
    text = base.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines(keepends=True) if x.startswith("    model: shipped"))
    cfg.write_text(text.replace(line, f"    model: {path}\n", 1), encoding="utf-8")
    new, old = load_pipeline(cfg), load_pipeline(base)
    gained = 0
    for t in _texts():
        a, b = old.scan(t), new.scan(t)
        va, vb = str(getattr(a.verdict, "value", a.verdict)), str(getattr(b.verdict, "value", b.verdict))
        assert va == vb or (va == "pass" and vb == "flag"), (t, va, vb)
        # the model's scores (what corroboration reads) are the same; a reach finding reports its own score
        reached = {f.category for f in b.findings if f.rule.endswith("~reach")}
        assert {k: v for k, v in a.scores.items() if k not in reached} == {k: v for k, v in b.scores.items() if k not in reached}, t
        assert a.model_scores.get() == b.model_scores.get(), t
        gained += va != vb
    assert gained
    cfg.write_text(text.replace(line, f"    model: {path}\n    reach: false\n", 1), encoding="utf-8")
    off = load_pipeline(cfg)
    for t in TEXTS:
        assert off.scan(t).verdict == old.scan(t).verdict


@pytest.mark.parametrize(
    "value, message",
    [
        ("no", "classifier.reach: expected true or false, got 'no' / reach 应为 true 或 false"),
        (0, "expected true or false"),
        ({"porn": 0.5}, "reach 应为 true 或 false"),
    ],
)
def test_config_errors_are_clear(value, message):
    with pytest.raises(ValueError) as e:
        from_config({"model": "shipped", "reach": value}, Policy(), Path("."))
    assert message in str(e.value)


@pytest.mark.parametrize(
    "heads, meta, message",
    [
        (("porn", "gambling", "fraud", "drugs"), None, "must fit the padding of its 13 categories' rows (3 free) / 扩展头超出行的空位"),
        (("porn",), {}, "do not match its ~reach columns"),
        (("porn",), {"porn~reach": 0.3, "drugs~reach": 0.3}, "do not match"),
        (("porn",), {"porn~reach": 1.0}, "threshold must be between 0 and 1, got 1.0 / 扩展头阈值应在 0 与 1 之间"),
        (("porn",), {"porn~reach": True}, "threshold must be between 0 and 1"),
        (("porn",), [0.3], "expected a mapping head -> threshold / 模型 reach 应为 头: 阈值 映射"),
    ],
)
def test_a_bad_declaration_is_refused(tmp_path, heads, meta, message):
    path = _reach_model(tmp_path, heads=heads, meta=meta)
    with pytest.raises(ValueError) as e:
        _check(path)
    assert message in str(e.value)


def test_a_reach_head_of_an_unknown_category_is_refused(tmp_path):
    m = Model.load(_reach_model(tmp_path, heads=("porn",)))
    m.categories[-1] = "pron~reach"
    m.meta["reach"] = {"pron~reach": 0.3}
    path = m.save(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="the model scores no category pron / 模型没有类别 pron"):
        _check(path)


def test_the_shipped_model_scores_as_before_with_reach_off():
    """The shipped model declares no reach heads (``reach`` is absent from its meta): nothing changes."""
    check = _check()
    assert check._bound.reach is None and check._bound.k == len(check.model.categories)
