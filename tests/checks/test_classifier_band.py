"""Flag bands (session 24, ``classifier/band.py``): a block category's score at or above its flag
threshold but under its threshold gives a ``flag`` finding; the C kernel and the numpy path agree."""

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
    "我不想活了，活着没意思", "吃安眠药多少片会死", "今天天气很好，我们去公园散步吧", "割腕是什么感觉，会不会很疼",
    "加微信领取彩金，百家乐稳赢", "你这个傻逼，滚出去", "我要把他的家庭住址和电话都发到网上", "教我怎么做炸药",
    "最近压力好大，晚上睡不着", "楼顶的风好大，跳下去就解脱了吧", "怎么让一个人慢慢生病又查不出来",
]  # fmt: skip


def _check(**kw) -> ClassifierCheck:
    return ClassifierCheck(shipped_model_path(), reload_interval=0, **kw)


def _act(check: ClassifierCheck, text: str, category: str):
    got = [f.action for f in check.find_in(text, check.normaliser.normalise(text)) if f.category == category]
    return got[0] if got else None


def test_band_flags_under_the_threshold_and_blocks_above():
    # At 0.5 (not the shipped 0.98) so the texts reach both sides of the band; 0 turns the declared band off.
    th = 0.5
    plain = _check(thresholds={"harm": th}, flag_thresholds={"harm": 0})
    banded = _check(thresholds={"harm": th}, flag_thresholds={"harm": 0.01})
    seen = set()
    for t in TEXTS:
        p = plain.scores(t)["harm"]
        want = Action.BLOCK if p >= th else Action.FLAG if p >= 0.01 else None
        assert _act(banded, t, "harm") == want, (t, p)
        assert _act(plain, t, "harm") == (Action.BLOCK if p >= th else None), t
        seen.add(want)
    assert {Action.BLOCK, Action.FLAG} <= seen  # the texts exercise both sides of the band


def test_no_band_is_the_old_check():
    a, b = _check(flag_thresholds={"harm": 0}), _check(thresholds={"harm": 0.5}, flag_thresholds={"harm": 0})  # 0: no band
    for bound in (a._bound, b._bound):
        assert bound.band is None and bound.cut_bytes == bound.cut.tobytes()


def test_the_shipped_model_declares_the_harm_band():
    """Session 24: harm blocks at 0.98 and flags from 0.70 (build FLAG_THRESHOLDS / SET_THRESHOLDS)."""
    from fenghuo.checks.build.classifier import FLAG_THRESHOLDS, SET_THRESHOLDS

    check = _check()
    assert check.model.meta["flag_thresholds"] == FLAG_THRESHOLDS == {"harm": 0.70}
    assert check.model.thresholds["harm"] == SET_THRESHOLDS["harm"] == 0.98
    assert check._bound.band == [c == "harm" for c in check.categories()]


def _saved_with(tmp_path: Path, declared: dict) -> Path:
    m = Model.load(shipped_model_path())
    m.meta["flag_thresholds"] = declared
    return m.save(tmp_path / "banded.npz")


def test_a_model_declares_its_band_and_the_config_overrides_it(tmp_path):
    path = _saved_with(tmp_path, {"harm": 0.01, "offensive": 0.1})
    declared = ClassifierCheck(path, reload_interval=0)
    assert declared._bound.band == [c == "harm" for c in declared.categories()]  # offensive flags anyway: ignored
    t = next(t for t in TEXTS if 0.01 <= declared.scores(t)["harm"] < 0.5)
    assert _act(declared, t, "harm") is Action.FLAG
    assert _act(ClassifierCheck(path, reload_interval=0, flag_thresholds={"harm": 0}), t, "harm") is None
    # a configured threshold under the declared flag threshold leaves no band: the user's threshold rules
    assert ClassifierCheck(path, reload_interval=0, thresholds={"harm": 0.005})._bound.band is None
    assert Model.load(path).meta["flag_thresholds"] == {"harm": 0.01, "offensive": 0.1}


@pytest.mark.parametrize(
    "value, message",
    [
        ({"harm": 0.99}, "harm's flag threshold 0.99 is not below its threshold 0.98 / 类别 harm 的标记阈值 0.99 不低于其阈值 0.98"),
        ({"offensive": 0.3}, "offensive's action is flag, not block"),
        ({"harmm": 0.3}, "this model scores no category harmm"),
        ({"harm": 1.0}, "must be at least 0 and below 1, got 1.0 / 标记阈值应不小于 0 且小于 1"),
        ({"harm": -0.1}, "标记阈值应不小于 0 且小于 1"),
        ({"harm": "x"}, "classifier.flag_thresholds.harm: expected a number, got 'x' / 标记阈值应为数字"),
        ({"harm": True}, "expected a number"),
        ([0.3], "expected a mapping category -> flag threshold / 应为 类别: 标记阈值 映射"),
    ],
)
def test_config_errors_are_clear(value, message):
    with pytest.raises(ValueError) as e:
        from_config({"model": "shipped", "flag_thresholds": value}, Policy(), Path("."))
    assert message in str(e.value)


def test_a_band_under_a_global_threshold_and_a_refused_one():
    assert _check(threshold=0.9, flag_thresholds={"harm": 0.6})._bound.band is not None
    with pytest.raises(ValueError, match="not below its threshold 0.4"):
        _check(threshold=0.4, flag_thresholds={"harm": 0.6})


def test_pipeline_config(tmp_path):
    cfg = tmp_path / "checks.yaml"
    cfg.write_text("checks:\n  - type: classifier\n    model: shipped\n    flag_thresholds: {harm: 0.01}\n", encoding="utf-8")
    pipe = load_pipeline(cfg)
    plain = _check()
    t = next(t for t in TEXTS if 0.01 <= plain.scores(t)["harm"] < 0.5 and max(plain.scores(t).values()) < 0.2)
    assert pipe.scan(t).verdict == "flag"
    cfg.write_text("checks:\n  - type: classifier\n    model: shipped\n    flag_thresholds: {harm: 0.99}\n", encoding="utf-8")
    with pytest.raises(Exception, match="not below its threshold"):
        load_pipeline(cfg)


def _cold_rows(n: int = 3000) -> list[str]:
    import csv
    import os

    p = Path(os.environ.get("FENGHUO_DATA", "/work/shared/data")) / "classifier/cold/train.csv"
    if not p.exists():
        return []
    with open(p, encoding="utf-8-sig") as f:
        return [r["TEXT"] for _, r in zip(range(n), csv.DictReader(f))]


@pytest.mark.skipif(features.NATIVE is None, reason="the classifier's C kernel is not built")
def test_kernel_and_numpy_paths_agree_with_bands(monkeypatch):
    """Every block category with a band: the same findings and actions on the kernel and on the
    numpy path (FENGHUO_NATIVE=0's), on COLD rows and cuts of a mixed text."""
    policy = Policy()
    model = Model.load(shipped_model_path())
    bands = {c: 0.05 for c in model.categories if policy.rule(c).action is Action.BLOCK and model.thresholds.get(c, 0.5) > 0.05}
    text = "加微信领取彩金，百家乐稳赢。我不想活了。你这个傻逼，滚出去。教我怎么做炸药。今天天气很好。" * 40
    texts = _cold_rows() + TEXTS + [text[i : i + 50] for i in range(0, 2000, 7)]
    native = _check(flag_thresholds=bands)
    assert native.model.native
    monkeypatch.setattr(features, "NATIVE", None)
    plain = _check(flag_thresholds=bands)
    assert not plain.model.native
    flagged = blocked = 0
    for t in texts:
        n = native.normaliser.normalise(t)
        a, b = native.find_in(t, n), plain.find_in(t, n)
        assert [(f.category, f.action, f.risk) for f in a] == [(f.category, f.action, f.risk) for f in b], t
        flagged += sum(f.action is Action.FLAG and f.category in bands for f in a)
        blocked += sum(f.action is Action.BLOCK for f in a)
    assert flagged and blocked


def test_the_band_is_exact_at_its_edges():
    """A score exactly at the flag threshold flags, exactly at the threshold takes the action (logits
    compared as the check compares them: float64 cuts, float32 logits widened)."""
    c = _check(flag_thresholds={"harm": 0.01})
    k = c.categories().index("harm")
    b = c._bound
    for z, want in (
        (b.low[k], Action.FLAG),
        (np.nextafter(b.low[k], -np.inf), None),
        (b.cut[k], Action.BLOCK),
        (np.nextafter(b.cut[k], -np.inf), Action.FLAG),
    ):
        logits = np.full(len(c.categories()), -30.0)
        logits[k] = z
        c._bound.model.logits_hits = lambda codes, cut, _z=logits: (_z.tobytes(), tuple(np.nonzero(_z >= np.frombuffer(cut))[0].tolist()))
        assert _act(c, "随便一句话而已", "harm") == want, z


def _topic(category: str = "porn", action: Action = Action.CONTEXT_BLOCK):
    from fenghuo.checks.base import Finding

    return Finding(category, 9, 10, "lexicon:🐷", action, "A1f", None)


def test_a_topic_word_only_a_banded_score_corroborates_settles_as_a_flag():
    from fenghuo.checks.corroborate import settle

    text = "@小鱼干 你个🐷，又睡到中午了吧，起来吃饭啦🍚"
    bands = {"harm": 0.813}
    act = lambda scores, **kw: [f.action for f in settle([_topic(**kw)], scores, 0.2, text, levels={"harm": 0.3252}, bands=bands)]  # noqa: E731
    assert act({"harm": 0.67}) == [Action.FLAG]  # harm is porn's family and over UNRELATED, but only in its band
    assert [f.action for f in settle([_topic()], {"harm": 0.67}, 0.2, text, levels={"harm": 0.3252})] == [Action.BLOCK]  # no bands: as before
    assert act({"harm": 0.9}) == [Action.BLOCK]  # over the category's threshold: its word blocks
    assert act({"harm": 0.67, "porn": 0.3}) == [Action.BLOCK]  # an unbanded related head speaks for it
    assert act({"harm": 0.67, "offensive": 0.55}) == [Action.BLOCK]  # any head at UNRELATED
    assert act({"harm": 0.67}, action=Action.CONTEXT_FLAG) == [Action.FLAG]
    assert act({"harm": 0.1}) == []  # under the level: dropped, as before


def test_bands_of_merges_the_checks_bands():
    from fenghuo.checks.corroborate import bands_of

    class C:
        def __init__(self, bands):
            self.flag_bands = bands

    assert bands_of([C(None), object()]) is None
    assert bands_of([C({"harm": 0.8}), C({"harm": 0.9, "violence": 0.5})]) == {"harm": 0.9, "violence": 0.5}
    assert _check(flag_thresholds={"harm": 0.1}).flag_bands == {"harm": _check().model.thresholds["harm"]}
    assert _check().flag_bands == {"harm": 0.98}  # the shipped model's declared band (session 24)
    assert _check(flag_thresholds={"harm": 0}).flag_bands is None
