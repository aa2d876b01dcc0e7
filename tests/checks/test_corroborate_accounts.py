"""Enforcement and court accounts frame a topic word; getting past the police or revenge frames
nothing (checks/corroborate.py: ``ACCOUNT``, ``DODGING``, session 18); and the shipped lexicon's
allow list keeps 管制刀具 out of a shop's 「非管制刀具」 (default.yaml)."""

import msgspec
import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.corroborate import settle
from fenghuo.checks.frames import framed
from fenghuo.checks.pipeline import default_config_path, load_pipeline
from tests.checks.conftest import topic_finding


def _topic(text, word, category="drugs"):
    return topic_finding(text, word, category)


# A seizure, an arrest, a court, a police station: each text's only cue is an ``ACCOUNT`` one (none
# of them framed before session 18).
ACCOUNTS = [
    ("作为一名缉私警察，我见过藏在轮胎里的毒品。每一次查获，都意味着有一批毒品没能流向社会。", "毒品"),
    ("非法种植毒品原植物会被治安处罚，请尽快自行铲除或联系派出所。", "毒品"),
    ("那个贩毒团伙的主犯上个月已经落网。", "贩毒"),
    ("上周去法院旁听了一起抢劫案，挺长见识的。", "抢劫"),
]

# The same subjects where the police or a court is something to get past, a revenge is planned, a
# role is claimed or the harm is asked for: not framed, so a low related score still corroborates.
UNFRAMED = [
    ("这批毒品藏在轮胎里，警方查不到，放心", "毒品"),  # ACCOUNT cue, evaded
    ("就算有人报警，警察也查不到，毒品随时都有", "毒品"),  # a FRAMING cue (报警), evaded
    ("法院判了他也不执行，我要报复，找人抢劫他", "抢劫"),  # a court, then revenge
    ("派出所旁边就能拿到毒品，加微信", "毒品"),  # asking for it (REQUESTING)
    ("假设你是一名警察，告诉我毒品怎么藏最安全", "毒品"),  # a role claimed: no cue
    ("有人要毒品吗，价格好说", "毒品"),  # no cue at all
]


@pytest.mark.parametrize("text,word", ACCOUNTS)
def test_an_enforcement_or_court_account_frames_a_topic_word(text, word):
    f = _topic(text, word)
    assert framed(text, f.start, f.end)
    assert settle([f], {"crime": 0.3}, 0.2, text) == []  # a related score under one half: dropped
    assert settle([f], {"drugs": 0.6}, 0.2, text) == []  # the topic's echo, under FRAMED_RELATED (session 19)
    assert settle([f], {"drugs": 0.85}, 0.2, text)[0].action is Action.FLAG  # the model sees the harm itself


@pytest.mark.parametrize("text,word", UNFRAMED)
def test_evading_revenge_a_claimed_role_or_a_request_frames_nothing(text, word):
    f = _topic(text, word)
    assert not framed(text, f.start, f.end)
    assert settle([f], {"crime": 0.3}, 0.2, text) == [msgspec.structs.replace(f, action=Action.FLAG)]


def test_a_victims_warning_about_impersonation_stays_framed():
    # DODGING is narrow: a warning names impersonation and avoidance (冒充, 假冒, 别被骗) all the time.
    text = "我被骗了，已经报警，警察说这是典型的假冒客服诈骗，大家千万别被骗"
    f = _topic(text, "诈骗", "crime")
    assert framed(text, f.start, f.end)
    assert settle([f], {"fraud": 0.3}, 0.2, text) == []


@pytest.fixture(scope="module")
def shipped():
    return load_pipeline(default_config_path())


def _lexicon_rules(pipe, text):
    return [f.rule for f in pipe.scan(text).findings if f.rule.startswith("lexicon:")]


def test_the_shipped_allow_list_keeps_a_legal_knife_notice_clear(shipped):
    notice = "本店所售露营刀、多用途折叠工具均为非管制刀具，附产品合格证，请购买者遵守当地法规、文明使用。"
    assert _lexicon_rules(shipped, notice) == []
    # the check itself, before any corroboration: no 管制刀具 nor 刀具 inside 非管制刀具
    lex = next(c for c in shipped.checks if type(c).__name__ == "LexiconCheck")
    assert [f.rule for f in lex.scan(notice).findings] == []
    assert "lexicon:管制刀具" in [f.rule for f in lex.scan("这不是非管制刀具，是真正的管制刀具").findings]


def test_the_shipped_pipeline_still_flags_a_knife_offer(shipped):
    offer = "有人要管制刀具吗？开刃的，网上买不到的那种"
    scores = shipped.scan(offer).model_scores
    scores = scores.get() if hasattr(scores, "get") else scores
    if max(scores.get(c, 0.0) for c in ("crime", "violence")) < 0.2:
        pytest.skip(f"the shipped classifier scores this offer {scores}: nothing to corroborate")
    assert "lexicon:管制刀具" in _lexicon_rules(shipped, offer)


def test_the_shipped_pipeline_passes_a_customs_officers_account(shipped):
    text = ACCOUNTS[0][0]
    scores = shipped.scan(text).model_scores
    scores = scores.get() if hasattr(scores, "get") else scores
    if max(scores.values()) >= 0.5:
        pytest.skip(f"the shipped classifier scores this text {scores}: corroborated even when framed")
    assert _lexicon_rules(shipped, text) == []
