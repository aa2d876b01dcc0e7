"""A classifier trained on Chinese does not judge text in other scripts (``min_han_share``)."""

import numpy as np
import pytest

from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.classifier.script import han_share
from fenghuo.checks.normalize import default_normaliser, encode_quad

ENGLISH = [
    "Could you recommend a good book about the history of Rome?",
    "The meeting has been moved to Thursday afternoon at three.",
    "My daughter wants to learn the piano; what age is best to start?",
    "Please remember to water the plants while we are away on holiday.",
    "What is the difference between a virus and a bacterium?",
    "We played cards with the neighbours last night and lost every hand.",
    "Lucky numbers and jackpots are a theme of this old casino movie review.",
    "Turn left after the bridge and the station is on your right.",
]
CHINESE_HARMFUL = "你们这些傻逼都该死，滚出去"


def _codes(text):
    return default_normaliser().normalise(text).codes


def test_han_share_counts_han_among_letters():
    assert han_share(_codes("你好世界")) == 1.0
    assert han_share(_codes("hello")) == 0.0
    assert han_share(_codes("加V: ab 同城")) == pytest.approx(3 / 6)  # 加, 同, 城 against v, a, b
    assert han_share(_codes("123 ！？")) == 0.0  # no letters at all
    assert han_share(encode_quad(np.array([0x4E00, 0x61], dtype=np.uint32))) == 0.5


def test_the_shipped_model_declares_its_script_and_leaves_english_alone():
    assert Model.load(shipped_model_path()).meta["min_han_share"] == 0.25
    check = ClassifierCheck(shipped_model_path())
    for text in ENGLISH:
        assert check.scan(text).findings == [], text
        assert check.scores(text) == {}
    assert check.scan(CHINESE_HARMFUL).findings  # Chinese is judged as before


def test_without_the_declaration_the_model_judges_every_script():
    check = ClassifierCheck(shipped_model_path(), min_han_share=0.0)
    assert all(check.scores(t) for t in ENGLISH)  # a user's model trained on English must be able to
    with pytest.raises(ValueError, match="min_han_share"):
        ClassifierCheck(shipped_model_path(), min_han_share=1.5)
