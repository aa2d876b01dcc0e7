"""Session 24's second precision pass (checks/counter_speech.py, mention.py): the offensive head's
false alarms on harmless discussion — anti-bias talk, a stereotype told by the one it was said
to, abuse and scams discussed, the law named — without clearing what insults or endorses.

* Counter-speech reads sayings in ASCII single quotes, a saying named a bias outright (「关于'…'的
  刻板印象」) or asked to stop (「这种话能不能别说了」), spoken against with 不能 / 而不是, a turn on
  the people who say it (「说…“…”的人」), a word named biased (「这个词带有歧视色彩」), the speaker's
  own stance (不搞 / 讨厌 地域黑), and a speaker who names themself and reports being told a
  stereotype; it cuts the words naming abuse (骂, 辱骂 …) before scoring again.
* It no longer clears a judgment taken back by a change of mind (后来, 从此), voiced as others'
  talk the speaker sneers at (说什么, 天天喊着), next to a threat (弄死), or beside the speaker's
  own dislike of a group (不喜欢黑人).
* Mention frames abuse named as a subject (网暴, 辱骂 … discussed, judged or reported), a scam
  warning (a warning's rule, scammers as the agent of a method, whoever says a quoted line, a
  user who saw through one; 你 in a quote or as the scammer's object is no address), a word's
  meaning explained, and an offence named by its legal name (…罪) as a report's word.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.counter_speech import countering, cue
from fenghuo.checks.mention import mention_spans, report_spans


@pytest.fixture(scope="module")
def pipe():
    from fenghuo.checks.pipeline import load_pipeline

    return load_pipeline()


COUNTER = [
    "我是湖南人，上大学时被室友说'你们湖南人是不是都不怕辣'，解释了好久",
    "关于'上海人都排外'的刻板印象，很多上海网友觉得委屈",
    "“女司机都开不好车”这种话能不能别再说了",
    "说外地人“抢饭碗”的人，自己的父辈也是外地来的",
    "我是四川人，不搞地域黑",
    "'娘娘腔'这个词本身就带有性别歧视",
]


@pytest.mark.parametrize("text", COUNTER)
def test_new_counter_speech_cues_clear_the_offensive_flag(text, pipe):
    assert cue(text) is not None
    assert countering(text)
    assert pipe.scan(text).verdict == "pass"


@pytest.mark.parametrize("text", [
    "我以前讨厌地域黑，后来发现东北人确实爱打架",  # a change of mind
    "天天喊着反对地域歧视的人，自己最爱歧视别人",  # others' talk, sneered at
    "第一我讨厌地域歧视，第二我不喜欢黑人",  # the speaker's own dislike of a group
])
def test_a_judgment_taken_back_sneered_at_or_beside_a_dislike_keeps_its_flag(text, pipe):
    assert cue(text) is not None
    assert not countering(text)
    assert pipe.scan(text).verdict != "pass"


def test_no_counter_speech_beside_a_threat_or_agreeing_with_the_sayers():
    assert cue("我被同事说'你真胖'，我要弄死他") is not None
    assert not countering("我被同事说'你真胖'，我要弄死他")
    assert cue("说“河南人是骗子”的人说得对") is None


@pytest.mark.parametrize("text", [
    "社区提示：凡是让你先交保证金的，都是骗子",  # a warning's rule; 让你: the scammer's ask
    "骗子常常冒充快递客服打电话，要你点链接退款",  # scammers as the agent of a method
    "看到有人发“稳赚不赔”的，基本都是骗子",  # whoever says a quoted line
    "网络暴力会毁掉一个人，请大家理性发言",  # abuse named as a subject
    "律师说，在网上辱骂他人情节严重的可能构成侮辱罪",
])
def test_mentioned_scams_and_abuse_are_cut_out_and_the_text_passes(text, pipe):
    assert mention_spans(text)
    assert pipe.scan(text).verdict == "pass"


@pytest.mark.parametrize("text", [
    "你这个骗子，还钱",
    "新来的记住，遇到问“你们是不是骗子”的，就说不是",  # the 你 is inside the quote holding 骗子
    "骂死他，这种人活该被网暴",
    "网暴怎么了，骂的就是你这种废物",
])
def test_a_name_called_or_abuse_voiced_keeps_its_flag(text, pipe):
    assert mention_spans(text) == []
    assert pipe.scan(text).verdict != "pass"


def test_an_offence_named_by_its_legal_name_is_a_reports_word():
    assert report_spans("盗窃罪和抢劫罪的区别在哪里？")
    assert report_spans("一女子因诈骗被法院以诈骗罪判处有期徒刑三年")  # 女子: a person, not a group
    assert report_spans("你怎么不去犯罪") == []  # no offence named by its legal name
