"""A framed topic word needs its own family at ``FRAMED_RELATED`` (0.8) or another category at
``UNRELATED`` (0.5); in a strong frame — two different cues of any kind in its frame window, nothing
evading, asking or dodging in the text — is corroborated only by its own family of model
categories, not by an unrelated tone (checks/corroborate.py: ``framed_corroborated``,
``topic_strong``, session 19)."""

import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.corroborate import FRAMED_RELATED, settle
from fenghuo.checks.frames import topic_strong
from tests.checks.conftest import topic_finding


def _topic(text, word, category="crime"):
    return topic_finding(text, word, category)


# News and court accounts: two different cues each (被…抢劫 is no cue; 派出所 and 抓获 are).
STRONG = [
    ("湖南一名网约车司机被乘客持刀抢劫，司机机智开车至派出所门口，嫌疑人被当场抓获。", "抢劫"),
    ("白宝山说犯案是因为派出所民警不给他办户口，已经在北京杀人抢劫了，为啥还要到新疆作案？", "抢劫"),
    ("据报道，警方在一次专项行动中捣毁了一个诈骗窝点。", "诈骗"),
]

# Near misses: one cue only, or a strong frame in a text that asks for the harm, evades or dodges.
NOT_STRONG = [
    ("湖南一名网约车司机被乘客持刀抢劫，司机机智开车至派出所门口。", "抢劫"),  # 派出所 alone
    ("据报道，警方在一次专项行动中捣毁了一个诈骗窝点，谁有他们的联系方式", "诈骗"),  # REQUESTING
    ("据报道，警方捣毁了一个诈骗窝点，但我们的窝点警察查不到", "诈骗"),  # DODGING
    ("派出所民警抓获的那个抢劫团伙，怎么做到不被发现的", "抢劫"),  # EVADING
]


@pytest.mark.parametrize("text,word", STRONG)
def test_a_strong_frame_takes_only_the_words_own_family(text, word):
    f = _topic(text, word)
    assert topic_strong(text, f.start, f.end)
    assert settle([f], {"offensive": 0.8}, 0.2, text) == []  # a tone, not the topic: dropped
    assert settle([f], {"crime": 0.85}, 0.2, text)[0].action is Action.FLAG  # the model sees the crime itself


@pytest.mark.parametrize("text,word", NOT_STRONG)
def test_one_cue_or_a_request_keeps_the_old_bar(text, word):
    f = _topic(text, word)
    assert not topic_strong(text, f.start, f.end)
    assert settle([f], {"offensive": 0.8}, 0.2, text)[0].action is Action.FLAG  # any category at 0.5


def test_a_stream_midway_keeps_the_old_bar():
    text, word = STRONG[0]
    f = _topic(text, word)
    assert settle([f], {"offensive": 0.8}, 0.2, text, whole=False)[0].action is Action.FLAG


def test_a_framed_word_needs_its_own_family_at_framed_related():
    text = "请帮我把这段关于防范电信诈骗的通知改得更简洁一点"  # one cue (防范): framed, not strong
    f = _topic(text, "诈骗")
    assert not topic_strong(text, f.start, f.end)
    assert settle([f], {"crime": 0.53, "fraud": 0.46}, 0.2, text) == []  # the topic's echo
    assert settle([f], {"crime": FRAMED_RELATED}, 0.2, text)[0].action is Action.FLAG
    # near miss: the same word unframed stands on a related score of 0.2, as before
    plain = "这段电信诈骗的话术改得更简洁一点"
    g = _topic(plain, "诈骗")
    assert settle([g], {"crime": 0.3}, 0.2, plain)[0].action is Action.FLAG


def test_a_dropped_word_in_a_strong_frame_leaves_the_next_words_bar_alone():
    # A strong-framed word dropped first must not lower what a later, merely framed word needs
    # (a bug of 637d6b6: the related maximum leaked into the next finding's test).
    first = "据报道，警方在一次专项行动中捣毁了一个诈骗窝点。"
    filler = "今天天气很好，我们一起去公园散步，看了很多花，还吃了冰淇淋，晚上回家做了饭，看了一部电影，然后早早睡了。" * 2
    second = "有人在群里说要去抢劫，我已经举报了。"
    text = first + filler + second
    a, b = _topic(text, "诈骗"), _topic(text, "抢劫")
    assert len(text) > 100 and topic_strong(text, a.start, a.end) and not topic_strong(text, b.start, b.end)
    got = settle([a, b], {"offensive": 0.6, "crime": 0.1}, 0.2, text)
    assert [x.rule for x in got] == ["lexicon:抢劫"]
