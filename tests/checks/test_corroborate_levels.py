"""Per-head corroboration levels (checks/corroborate.py, "Per-head levels"; issue 12, session 20):
a model may declare, per category, the score a topic word's related category must reach; the
configured ``corroborate`` stays the floor and a category without a level keeps it."""

import numpy as np
import pytest

from fenghuo.checks.build.classifier_levels import levels, parse_rule
from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.corroborate import levels_of, settle
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.pipeline import Pipeline
from tests.checks.conftest import topic_finding

# The shipped model: crime 0.40, fraud 0.19 — a crime word stands on the flat 0.2.
ASKS = "帮我写一个诈骗短信模板"


def _lexicon(tmp_path):
    f = tmp_path / "topic.tsv"
    f.write_text("诈骗\tcrime\tcontext-flag\n", encoding="utf-8")
    return LexiconCheck(files=[f])


def _model_with(tmp_path, declared):
    model = Model.load(shipped_model_path())
    if declared is not None:
        model.meta["corroborate"] = declared
    return model.save(tmp_path / "with_levels.npz")


def _stands(text, scores, **kw):
    return [f.action.value for f in settle([topic_finding(text, "诈骗", "crime")], scores, 0.2, text, **kw)]


def test_a_related_category_must_reach_its_own_level_where_one_is_given():
    scores = {"crime": 0.3, "fraud": 0.1, "offensive": 0.05}
    assert _stands(ASKS, scores) == ["flag"]
    assert _stands(ASKS, scores, levels={"crime": 0.35}) == []
    assert _stands(ASKS, scores, levels={"crime": 0.3}) == ["flag"]
    assert _stands(ASKS, scores, levels={"fraud": 0.9}) == ["flag"]  # crime keeps the flat 0.2


def test_a_level_below_the_configured_value_does_not_lower_it_and_zero_stays_off():
    scores = {"crime": 0.15}
    assert _stands(ASKS, scores, levels={"crime": 0.1}) == []
    f = topic_finding(ASKS, "诈骗", "crime")
    assert settle([f], scores, 0.0, ASKS, levels={"crime": 0.9})[0].action.value == "flag"  # corroborate: 0


def test_any_category_from_unrelated_is_unchanged_by_levels():
    assert _stands(ASKS, {"crime": 0.3, "offensive": 0.6}, levels={"crime": 0.5}) == ["flag"]


class _Scorer:
    def __init__(self, levels):
        self.corroboration_levels = levels


def test_levels_of_merges_the_declaring_checks_by_their_maximum():
    assert levels_of([object(), _Scorer(None), _Scorer({})]) is None  # none declares any
    assert levels_of([_Scorer({"crime": 0.5})]) == {"crime": 0.5}
    merged = levels_of([_Scorer({"crime": 0.5, "fraud": 0.3}), object(), _Scorer({"crime": 0.4, "violence": 0.6})])
    assert merged == {"crime": 0.5, "fraud": 0.3, "violence": 0.6}  # the higher bar holds


def test_a_model_that_declares_levels_raises_the_bar_in_the_pipeline(tmp_path):
    lex = _lexicon(tmp_path)
    check = ClassifierCheck(shipped_model_path(), reload_interval=0)
    assert 0.2 <= check.scores(ASKS)["crime"] < 0.45 and max(check.scores(ASKS).values()) < 0.5
    shipped = Pipeline([lex, check])
    assert [f.rule for f in shipped.scan(ASKS).findings] == ["lexicon:诈骗"]
    raised = Pipeline([lex, ClassifierCheck(_model_with(tmp_path, {"crime": 0.45}), reload_interval=0)])
    assert raised.scan(ASKS).findings == []
    stream = raised.stream()
    for ch in (ASKS[:4], ASKS[4:]):
        stream.feed(ch)
    assert stream.close().findings == []  # the stream settles on the same levels
    low = Pipeline([lex, ClassifierCheck(_model_with(tmp_path, {"crime": 0.3, "fraud": 0.9}), reload_interval=0)])
    assert [f.rule for f in low.scan(ASKS).findings] == ["lexicon:诈骗"]
    # The same string object, the same scores, a model without levels: no level left over.
    assert raised.scan(ASKS).findings == []
    assert [f.rule for f in shipped.scan(ASKS).findings] == ["lexicon:诈骗"]
    assert raised.scan(ASKS).findings == []


def test_a_model_without_levels_is_bound_without_them(tmp_path):
    model = Model.load(shipped_model_path())
    model.meta.pop("corroborate", None)
    check = ClassifierCheck(model.save(tmp_path / "no_levels.npz"), reload_interval=0)
    assert "corroborate" not in check.model.meta and check.corroboration_levels is None
    # The shipped model declares the harm head's level since session 24 (the head trained on written rows).
    assert ClassifierCheck(shipped_model_path(), reload_interval=0).corroboration_levels == {"harm": 0.3252}


def test_build_levels_by_share_and_by_fraction():
    model = Model.load(shipped_model_path())
    k = model.categories.index("violence")
    probs = np.zeros((200, len(model.categories)))
    probs[:, k] = np.linspace(0.0, 0.995, 200)
    labels = [frozenset()] * 100 + [frozenset({"violence"})] * 100  # the top half is harmful
    everything = [np.ones(200, bool)]
    # Harmless scores run 0 .. ~0.497: at most 2 of 100 may reach the level.
    lv = levels(model, probs, labels, everything, ["violence"], ("share", 0.02))["violence"]
    assert (probs[:100, k] >= lv).sum() == 2 and (probs[:100, k] >= lv - 0.002).sum() == 3
    assert levels(model, probs, labels, everything, ["violence"], ("fraction", 0.4)) == {"violence": round(0.4 * model.thresholds["violence"], 4)}
    assert parse_rule("share:0.02") == ("share", 0.02)
    for bad in ("share", "median:0.1", "fraction:1.5"):
        with pytest.raises(ValueError):
            parse_rule(bad)
