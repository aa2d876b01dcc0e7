"""Session 22's precision work (checks/frame_cues.py, corroborate.py, counter_speech.py): fewer
harmless texts flagged and blocked, no harmful text lost.

* A frame no longer holds where the message claims to be someone the reader knows or asks the
  reader for money (``frame_cues.IMPERSONATING``: a kin scam borrows 住院 and 医生说), calls to join
  a group (扫码, 进群), threatens the one who reports (你敢报警, 举报我: ``DODGING``, which now vetoes
  demotion too), or names a prescription as not needed (不需要处方).
* 被…曝光 is a victim's cue only where the speaker or a person did it, not 「被全国媒体曝光」.
* Counter-speech reads sayings in ASCII quotes, cuts the verb of abuse (骂“…”) with the quote before
  scoring again, and drops a lexicon flag inside the judged quote.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.corroborate import demote
from fenghuo.checks.counter_speech import countering
from fenghuo.checks.frames import strong_frame


@pytest.fixture(scope="module")
def pipe():
    from fenghuo.checks.pipeline import load_pipeline

    return load_pipeline()


def _block(text: str, category: str = "fraud") -> Finding:
    return Finding(category, 0, len(text), "rules:fraud.test", Action.BLOCK)


KIN_SCAMS = [
    "舅舅，我是你外甥，我在外地住院了，医生说今天必须交押金，你先帮我转一下",
    "王姐，我换号了。我妈住院，医生说要手术，能不能先转我五千，下周还你",
]


@pytest.mark.parametrize("text", KIN_SCAMS)
def test_kin_scam_with_a_hospital_is_no_frame(text):
    assert not strong_frame(text, 0, len(text))
    assert [f.action for f in demote([_block(text)], text)] == [Action.BLOCK]


def test_a_hospital_still_frames_a_carer():
    text = "我爸住院了，医生说要做手术，医保能报多少"
    assert strong_frame(text, 0, len(text))


THREATS = [
    "你敢报警试试，报了我就去你单位闹",
    "举报我？行，你举报一次我就去你家门口等你一次",
]


@pytest.mark.parametrize("text", THREATS)
def test_threat_against_reporting_is_not_demoted(text):
    assert [f.action for f in demote([_block(text, "violence")], text)] == [Action.BLOCK]


def test_pitch_that_says_join_is_not_demoted():
    text = "名师直播讲课，带你炒外汇稳赚，扫码进群"
    assert [f.action for f in demote([_block(text)], text)] == [Action.BLOCK]


def test_no_prescription_needed_is_no_clinic():
    text = "吗啡片出售 不需要处方"
    assert [f.action for f in demote([_block(text, "drugs")], text)] == [Action.BLOCK]


def test_exposed_by_the_media_is_no_victim():
    text = "听说老李以前被好几家媒体曝光过，把他的底细都挖出来"
    assert [f.action for f in demote([_block(text, "privacy")], text)] == [Action.BLOCK]


def test_exposed_by_someone_is_a_victim():
    text = "我的照片被前男友曝光了，他还在群里到处发"
    assert [f.action for f in demote([_block(text, "privacy")], text)] == [Action.FLAG]


@pytest.mark.parametrize("text", ['骂"广东人什么都吃"是不对的', '有人说"东北人都是黑社会"，这种说法就是地域歧视'])
def test_ascii_quoted_saying_is_countered(text):
    assert countering(text)


def test_ascii_quoted_saying_endorsed_is_not_countered():
    assert not countering('骂"河南人都是骗子"是不对的，但河南人确实爱骗人')


COUNTER_SPEECH = [
    "评论区又有人骂“黑鬼”，看着真难受。种族歧视无论在哪都不该被容忍",
    '骂"小日本都该死"是不对的',
]


@pytest.mark.parametrize("text", COUNTER_SPEECH)
def test_counter_speech_passes(pipe, text):
    assert pipe.scan(text).verdict == "pass", [f.rule for f in pipe.scan(text).findings]


STILL_CAUGHT = [
    "黑鬼就该滚出中国",
    "姑姑，我是你侄子，我在学校生病住院了，医生说要先交押金，你先帮我转一下",
]


@pytest.mark.parametrize("text", STILL_CAUGHT)
def test_harmful_still_caught(pipe, text):
    assert pipe.scan(text).verdict != "pass"


def test_lottery_chart_word_flags_rather_than_blocks(pipe):
    v = pipe.scan("我外婆每天都要看彩票走势图，说能看出规律")
    assert v.verdict != "block"
    assert pipe.scan("彩票走势图内部数据，跟单稳赚，扫码进群").verdict == "block"  # the gambling rules


@pytest.mark.parametrize("text", ["下次恐怖袭击就在你们学校", "我想搞暴恐，谁有门路"])
def test_terror_words_still_act_alone(pipe, text):
    assert pipe.scan(text).verdict != "pass"


@pytest.mark.parametrize("text", [
    "某市中院一审宣判：被告人犯故意伤害罪，判处有期徒刑十年",
    "为什么直播间里的人那么爱骂人？是不是因为没人管",
])
def test_reports_and_questions_about_abuse_pass(pipe, text):
    assert pipe.scan(text).verdict == "pass", [f.rule for f in pipe.scan(text).findings]


def test_report_cues_leave_an_insult():
    from fenghuo.checks.mention import report_spans

    assert report_spans("法院一审判决被告人死刑") != []
    assert report_spans("法院判决被告人死刑，我怎么才能不被抓") == []  # evading
    assert report_spans("法院判决被告人死刑，河南人都该死") == []  # names a group


@pytest.mark.parametrize("text", ["搞销售的全是骗子，嘴上说得好听心里全是算计", "法院判决被告人死刑，这种人渣早该死了"])
def test_generalisations_and_insults_keep_their_flag(pipe, text):
    assert pipe.scan(text).verdict != "pass"


def test_a_warning_naming_the_group_pitch_is_still_demoted():
    text = "凡是拉你进群荐股的都是诈骗，千万不要信"
    assert [f.action for f in demote([_block(text)], text)] != [Action.BLOCK]


@pytest.mark.parametrize("text", ['别再拿"娘娘腔"骂人了，每个人的性格都不一样', "男的女的都有好有坏，别再一竿子打翻一船人了"])
def test_more_counter_speech(text):
    assert countering(text)


def test_a_generalisation_after_asking_is_still_endorsed():
    assert not countering('别再说"东北人都是黑社会"了，不过东北人确实爱打架')
