"""Topic words act only where the classifier corroborates (checks/corroborate.py), a
homophone hit whose characters read as ordinary words is no hit (checks/resolve.py), and an
offensive score that rests on an insult the text only mentions is no finding (checks/mention.py)."""

from pathlib import Path

import msgspec
import pytest

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.classifier.check import from_config as classifier_from_config
from fenghuo.checks.corroborate import RELATED, demote, frame_acting, settle
from fenghuo.checks.frames import SHORT_TEXT, framed, strong_frame
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.mention import mention_spans, without
from fenghuo.checks.pipeline import ConfigError, Pipeline, build_pipeline
from fenghuo.checks.policy import Policy
from fenghuo.checks.resolve import reads_as_words

HARMLESS = "警方提醒：接到自称客服的电话要当心诈骗，不要透露验证码。"
HARMFUL = "这就是诈骗，那些骗子都该死，傻逼"


def _lexicon(tmp_path, action):
    f = tmp_path / "topic.tsv"
    f.write_text(f"诈骗\tcrime\t{action}\n", encoding="utf-8")
    return LexiconCheck(files=[f])


@pytest.fixture(scope="module")
def classifier():
    return classifier_from_config({"model": "shipped"}, Policy(), Path("."))


def _rules(pipe, text):
    return [(f.rule, f.action.value) for f in pipe.scan(text).findings if f.rule.startswith("lexicon:")]


def test_a_topic_word_in_harmless_text_is_dropped_and_in_harmful_text_stands(tmp_path, classifier):
    pipe = Pipeline([_lexicon(tmp_path, "context-flag"), classifier])
    assert max(pipe.scan(HARMLESS).scores.values()) < pipe.corroborate  # the classifier sees nothing here
    assert _rules(pipe, HARMLESS) == []
    assert _rules(pipe, HARMFUL) == [("lexicon:诈骗", "flag")]


def test_a_context_block_word_blocks_when_corroborated(tmp_path, classifier):
    pipe = Pipeline([_lexicon(tmp_path, "context-block"), classifier])
    v = pipe.scan(HARMFUL)
    assert ("lexicon:诈骗", "block") in _rules(pipe, HARMFUL) and v.blocked
    assert _rules(pipe, HARMLESS) == []


def test_without_a_scoring_check_a_topic_word_keeps_its_action(tmp_path):
    pipe = Pipeline([_lexicon(tmp_path, "context-block")])
    assert _rules(pipe, "这里有人在搞诈骗") == [("lexicon:诈骗", "block")]
    assert _rules(pipe, HARMLESS) == [("lexicon:诈骗", "flag")]  # 警方提醒: demoted (corroborate.demote), not dropped


def test_the_threshold_is_configurable_and_checked(tmp_path, classifier):
    strict = Pipeline([_lexicon(tmp_path, "context-flag"), classifier], corroborate=1.0)
    assert _rules(strict, HARMFUL) == []  # no category reaches certainty
    lenient = Pipeline([_lexicon(tmp_path, "context-flag"), classifier], corroborate=0.0)
    assert _rules(lenient, HARMLESS) == [("lexicon:诈骗", "flag")]
    for bad in (1.5, -0.1, "high", True):
        with pytest.raises(ConfigError, match="corroborate"):
            build_pipeline({"checks": [], "corroborate": bad}, tmp_path, "t.yaml")
    assert build_pipeline({"checks": [], "corroborate": 0.5}, tmp_path, "t.yaml").corroborate == 0.5


def test_a_stream_settles_topic_words_on_the_whole_answer(tmp_path, classifier):
    pipe = Pipeline([_lexicon(tmp_path, "context-flag"), classifier])
    for text, want in ((HARMLESS, []), (HARMFUL, [("lexicon:诈骗", "flag")])):
        s = pipe.stream()
        for i in range(0, len(text), 7):
            s.feed(text[i : i + 7])
        got = [(f.rule, f.action.value) for f in s.close().findings if f.rule.startswith("lexicon:")]
        assert got == want


def test_settle_keeps_everything_else_untouched():
    from fenghuo.checks.base import Finding

    other = Finding("pii.phone", 0, 11, "pii:phone", Action.MASK)
    topic = Finding("crime", 12, 14, "lexicon:诈骗", Action.CONTEXT_BLOCK)
    assert settle([other, topic], {"fraud": 0.1}) == [other]
    assert settle([other, topic], {"fraud": 0.3})[1].action is Action.BLOCK
    assert settle([other, topic], None)[1].action is Action.BLOCK


@pytest.mark.parametrize(("span", "ordinary"), [
    ("技术总监", True),  # 技术|总监: sounds like a listed phrase, is everyday words
    ("甚至于", True),
    ("由于你", True),  # 由于|你, 你 a common character
    ("发轮功", False),  # 发|轮|功: an evasion forms no words
    ("六合婇", False),  # 六合|婇, but 婇 is a rare look-alike
    ("艹尼玛", False),
])
def test_reads_as_words(span, ordinary):
    assert reads_as_words(span) is ordinary


def test_a_homophone_that_reads_as_ordinary_words_is_no_hit():
    check = LexiconCheck(words={"妓术总奸": ("porn",), "六合彩": ("gambling",)})
    assert check.scan("他是我们公司的技术总监").findings == []
    assert [f.rule for f in check.scan("听说六合婇的消息").findings] == ["lexicon:六合彩~homophone"]


def test_a_corroborated_context_block_word_cuts_a_stream_when_it_arrives(tmp_path, classifier):
    """Settled on what has arrived so far, not only at close: the guard cuts a stream on a
    block finding returned by ``feed``."""
    pipe = Pipeline([_lexicon(tmp_path, "context-block"), classifier])
    s = pipe.stream()
    assert s.feed("那些骗子都该死，傻逼，") == []
    got = s.feed("这就是诈骗。")
    assert [(f.rule, f.action.value) for f in got if f.rule.startswith("lexicon:")] == [("lexicon:诈骗", "block")]
    s2 = pipe.stream()  # harmless so far: dropped now, and still dropped on the whole answer
    assert [f for f in s2.feed("警方提醒：当心诈骗。") if f.rule.startswith("lexicon:")] == []
    assert [f for f in s2.close().findings if f.rule.startswith("lexicon:")] == []


def test_a_text_the_classifier_does_not_judge_keeps_its_topic_words(tmp_path, classifier):
    """The classifier abstains on text mostly in another script (min_han_share): with no second
    opinion a topic word keeps its action, as in a pipeline without a model — it used to be
    dropped, so 「buy 诈骗 kits here …」 in English passed."""
    pipe = Pipeline([_lexicon(tmp_path, "context-block"), classifier])
    text = "Cheap kits for 诈骗 are sold here, message me on the usual channel for the full price list today"
    assert classifier.scores_in(text, classifier.normaliser.normalise(text)) == {}  # abstained: not judged
    assert _rules(pipe, text) == [("lexicon:诈骗", "block")]
    assert settle([], {}) == []


def _finding(category, action=Action.CONTEXT_FLAG):
    from fenghuo.checks.base import Finding

    return Finding(category=category, start=0, end=2, rule=f"lexicon:{category}", action=action)


def test_a_topic_word_needs_its_own_family_of_categories_or_a_clear_score():
    """A crime word beside a sub-threshold offensive tone (harmless COLD discussion) is dropped;
    beside a crime score, or an offensive score past 0.5 (an insult), it stands."""
    from fenghuo.checks.corroborate import UNRELATED

    crime = [_finding("crime")]
    assert settle(crime, {"offensive": 0.3, "crime": 0.05}) == []
    assert [f.action for f in settle(crime, {"offensive": 0.05, "fraud": 0.25})] == [Action.FLAG]
    assert [f.action for f in settle(crime, {"offensive": UNRELATED})] == [Action.FLAG]
    # politics has no model category: terror, violence, crime, rumour speak for it
    assert settle([_finding("politics")], {"offensive": 0.4}) == []
    assert settle([_finding("politics", Action.CONTEXT_BLOCK)], {"terrorism": 0.3})[0].action is Action.BLOCK
    # a category outside the table (a user's own tag) keeps the old rule: any category
    assert settle([_finding("my_tag")], {"offensive": 0.25})[0].action is Action.FLAG
    # the configured threshold still governs the related categories and the floor
    assert settle(crime, {"crime": 0.25}, threshold=0.3) == []
    assert settle(crime, {"offensive": 0.55}, threshold=0.6) == []


def _topic_at(text, word, action=Action.CONTEXT_FLAG, category="crime"):
    i = text.index(word)
    return Finding(category, i, i + len(word), f"lexicon:{word}", action)


@pytest.mark.parametrize("text", ["怎么识别网络诈骗中的钓鱼链接？", "如何举报诈骗网站", "诈骗会判几年", "我被诈骗了怎么办",
                                  "很抱歉，我不能提供诈骗的方法。"])
def test_a_topic_word_in_a_framed_sentence_needs_a_related_score_of_one_half(text):
    f = [_topic_at(text, "诈骗")]
    assert settle(f, {"fraud": 0.32}, 0.2) == [msgspec.structs.replace(f[0], action=Action.FLAG)]  # no text: as before
    assert settle(f, {"fraud": 0.32}, 0.2, text) == []  # a warning, report, law question, victim, refusal
    assert settle(f, {"fraud": 0.6}, 0.2, text) == []  # the topic's echo (session 19: FRAMED_RELATED)
    assert settle(f, {"fraud": 0.8}, 0.2, text)[0].action == Action.FLAG  # the classifier sees the harm itself
    if text.startswith("很抱歉"):  # two cues (很抱歉, 我不能): a strong frame, only the word's own family counts
        assert settle(f, {"offensive": 0.6}, 0.2, text) == []
    else:
        assert settle(f, {"offensive": 0.6}, 0.2, text)[0].action == Action.FLAG  # any category from 0.5, as before


def test_a_cue_frames_only_its_own_sentence():
    text = "先说好怎么找人搞诈骗。以下步骤要警惕被发现"
    f = [_topic_at(text, "诈骗")]
    assert settle(f, {"fraud": 0.3}, 0.2, text)[0].action == Action.FLAG
    assert not framed(text, text.index("诈骗"), text.index("诈骗") + 2)
    assert framed(text, text.index("步骤"), text.index("步骤") + 2)


def test_framing_never_lowers_a_stricter_threshold():
    text = "如何举报诈骗网站"
    f = [_topic_at(text, "诈骗")]
    assert settle(f, {"fraud": 0.6}, 0.7, text) == settle(f, {"fraud": 0.6}, 0.7) == []


def test_the_pipeline_and_the_stream_pass_the_text(tmp_path, classifier):
    pipe = Pipeline([_lexicon(tmp_path, "context-flag"), classifier])
    text = "怎么识别网络诈骗中的钓鱼链接？"
    ms = pipe.scan(text).model_scores  # the classifier's own scores (Verdict.scores adds the findings')
    scores = ms.get() if hasattr(ms, "get") else ms
    related = max(scores.get(c, 0.0) for c in RELATED["crime"])
    if not (0.2 <= related < 0.5 and max(scores.values()) < 0.5):
        pytest.skip(f"the shipped classifier scores this text {scores}: not a framing case")
    assert _rules(pipe, text) == []
    s = pipe.stream()
    for ch in (text[:6], text[6:]):
        s.feed(ch)
    assert [f for f in s.close().findings if f.rule.startswith("lexicon:")] == []


def test_a_threshold_of_zero_turns_framing_off_too():
    text = "如何举报诈骗网站"
    f = [_topic_at(text, "诈骗")]
    assert settle(f, {"fraud": 0.1}, 0.0, text)[0].action == Action.FLAG


# -- lexicon words that act alone, in a framed sentence (frame_acting) ----------------------------

NEWS = "警方破获一起贩卖摇头丸的案件，提醒市民远离毒品"
SALE = "出售摇头丸，同城配送，懂的来"


def _acting(tmp_path):
    f = tmp_path / "acting.tsv"
    f.write_text("摇头丸\tdrugs\tblock\n", encoding="utf-8")
    return LexiconCheck(files=[f])


def test_an_acting_word_in_a_framed_sentence_is_settled_like_a_topic_word():
    i = NEWS.index("摇头丸")
    block = Finding("drugs", i, i + 3, "lexicon:摇头丸", Action.BLOCK)
    rule = Finding("drugs", i, i + 3, "rules:drugs.trade", Action.BLOCK)
    assert frame_acting([block, rule], NEWS) == [msgspec.structs.replace(block, action=Action.CONTEXT_BLOCK), rule]
    j = SALE.index("摇头丸")
    sale = Finding("drugs", j, j + 3, "lexicon:摇头丸", Action.BLOCK)
    assert frame_acting([sale], SALE) == [sale]  # no cue in its sentence: acts alone, as before
    settled = settle(frame_acting([block], NEWS), {"drugs": 0.3}, 0.2, NEWS)
    assert settled == []  # a related score under one half does not corroborate a framed word
    assert settle(frame_acting([block], NEWS), {"drugs": 0.6}, 0.2, NEWS) == []  # under FRAMED_RELATED
    assert settle(frame_acting([block], NEWS), {"drugs": 0.85}, 0.2, NEWS)[0].action == Action.BLOCK


def test_the_pipeline_and_the_stream_treat_news_and_a_sale_apart(tmp_path, classifier):
    pipe = Pipeline([_acting(tmp_path), classifier])
    ms = pipe.scan(NEWS).model_scores
    scores = ms.get() if hasattr(ms, "get") else ms
    if max([scores.get(c, 0.0) for c in RELATED["drugs"]] + [0.0]) >= 0.5:
        pytest.skip(f"the shipped classifier scores the news {scores}: the word is corroborated")
    assert _rules(pipe, NEWS) == []
    assert _rules(pipe, SALE) == [("lexicon:摇头丸", "block")]
    s = pipe.stream()
    for ch in (NEWS[:8], NEWS[8:]):  # the cue (破获) arrives before the word
        s.feed(ch)
    assert [f for f in s.close().findings if f.rule.startswith("lexicon:")] == []
    # Without corroboration (corroborate: 0) a word acts alone wherever it is.
    off = Pipeline([_acting(tmp_path), classifier], corroborate=0.0)
    assert _rules(off, NEWS) == [("lexicon:摇头丸", "block")]


# -- insults mentioned, not used (checks/mention.py) -----------------------------------------------

VICTIM_Q = "在闲鱼卖东西，买家说要我交保证金才能收款，是不是骗子？"
INSULT = "你就是个骗子吧，死骗子，不要脸"


@pytest.mark.parametrize("text,word", [
    (VICTIM_Q, "骗子"),  # a victim asks
    ("骗子给我发短信说中了保时捷，我回了一句“请直接送到我家楼下”", "骗子"),  # a story
    ("小说里反派骂主角“废物”，后面主角逆袭打脸", "“废物”"),  # a quotation in reported speech
    ("游戏里遇到一个一直骂人的队友，没必要骂人", "骂人"),  # a sentence against abuse
])
def test_a_mentioned_word_is_found_in_its_frame(text, word):
    spans = mention_spans(text)
    assert (text.rindex(word), text.rindex(word) + len(word)) in spans
    assert word not in without(text, spans)


@pytest.mark.parametrize("text", [
    INSULT,  # addressed to someone: 你 calls that person a scammer
    "河南人都是骗子，是不是？",  # a group named: left to the classifier as it is (COLD)
    "看到有人说“黑人都是罪犯”，我举报了",  # a group inside the quotation too
    "这些人都是骗子",  # no victim, warning or question
    "他说了句“废物”就走了，真是的",  # a quotation without a speech cue of its own: 说 alone is not one
    "反对的人都该骂",  # no word that names abuse
])
def test_no_frame_no_mention(text):
    assert mention_spans(text) == []


def test_without_cuts_overlapping_spans_once():
    assert without("甲乙丙丁戊", [(1, 3), (2, 4)]) == "甲戊"
    assert without("甲乙丙", []) == "甲乙丙"


def _offensive(v):
    return [f for f in v.findings if f.category == "offensive" and f.rule.startswith("classifier:")]


def test_the_pipeline_and_the_stream_drop_an_offensive_finding_that_rests_on_a_mention(classifier):
    pipe = Pipeline([classifier])
    if not _offensive(Pipeline([classifier], corroborate=0.0).scan(VICTIM_Q)):
        pytest.skip("the shipped classifier does not flag the victim's question: nothing to drop")
    assert _offensive(pipe.scan(VICTIM_Q)) == []
    s = pipe.stream()
    for ch in (VICTIM_Q[:9], VICTIM_Q[9:]):
        s.feed(ch)
    assert _offensive(s.close()) == []
    # Used, not mentioned: the insult keeps its finding.
    assert _offensive(pipe.scan(INSULT))
    # corroborate: 0 turns it off with the rest of the second opinions.
    assert _offensive(Pipeline([classifier], corroborate=0.0).scan(VICTIM_Q))


def test_what_is_left_must_score_under_one_half(classifier):
    text = "别理他，骗子一个，脑子有病"
    spans = mention_spans(text)
    assert spans  # 别理: a warning frame
    rest = classifier.scores(without(text, spans))["offensive"]
    if not 0.5 <= rest < classifier._bound.model.thresholds["offensive"]:
        pytest.skip(f"the shipped classifier scores the rest {rest}: not the case this pins")
    assert _offensive(Pipeline([classifier]).scan(text))  # under the threshold, not under 0.5: it stays


# Professional frames and demotion (issue 12, session 15): a doctor's, a lawyer's, a reporter's
# or a victim's message is at worst flagged for review, never blocked.

def _drug_words(*words):
    return Pipeline([LexiconCheck(words=dict.fromkeys(words, ("drugs",)))])  # drugs: block by default


def _lex(pipe, text):
    return [(f.rule, f.action.value) for f in pipe.scan(text).findings if f.rule.startswith("lexicon:")]


@pytest.mark.parametrize("text", ["麻醉科的人说的“K”就是氯胺酮吗？手术用的和毒品是一个东西？",
                                  "小讲课：氯胺酮在小儿麻醉诱导中的应用，1-2mg/kg静注。",
                                  "检方指控其三次向他人出售氯胺酮共计9.6克。",
                                  "据报道，一处仓库里发现氯胺酮两公斤。",
                                  "氯胺酮的管制标准是什么？"])
def test_a_professional_frame_demotes_a_block_to_a_flag(text):
    assert _lex(_drug_words("氯胺酮"), text) == [("lexicon:氯胺酮", "flag")]


@pytest.mark.parametrize("text", ["麻醉科医生说的“K”就是氯胺酮吗？手术用的和毒品是一个东西？",
                                  "麻醉科小讲课：氯胺酮在小儿麻醉诱导中的应用，剂量1-2mg/kg静注。",
                                  "检方指控其三次向他人出售氯胺酮共计9.6克，辩护人提出从轻处罚。",
                                  "据报道，警方在一处仓库查获氯胺酮两公斤。"])
def test_a_strong_frame_drops_the_finding(text):
    # Two different cues (麻醉科 and 医生说, 检方 and 辩护, 据报道 and 警方在) and nothing asking
    # for the harm or evading it (``strong_frame``): no finding at all.
    assert _lex(_drug_words("氯胺酮"), text) == []


@pytest.mark.parametrize("text", ["出售氯胺酮，量大从优，私聊", "无需处方，氯胺酮现货",
                                  "怎么运氯胺酮才能不被警方通报？", "如何规避刑法，把氯胺酮带出去",
                                  "论文需要，详细说明如何合成氯胺酮", "临床剂量的氯胺酮能让人昏迷多久？我想给她下一点",
                                  "患者需要，求购氯胺酮，价格好说", "我是药师，手里有氯胺酮，需要的加微信",
                                  "科普：怎么在家里提炼氯胺酮，步骤如下", "律师也查不到，氯胺酮随便带"])
def test_no_frame_a_negated_cue_evading_or_asking_keeps_the_block(text):
    # 无需处方 is a seller's word; 不被 and 规避 turn 警方通报 and 刑法 into something to evade; a
    # claimed profession (论文需要, 临床, 患者需要, 药师, 科普, 律师) asking for or offering the harm
    # (合成, 下一点, 求购, 加微信, 提炼, 随便带) frames nothing (``REQUESTING``).
    assert _lex(_drug_words("氯胺酮"), text) == [("lexicon:氯胺酮", "block")]


def test_a_cue_in_the_next_sentence_frames_a_short_text_only():
    pipe = _drug_words("裸聊")
    text = "那个“裸聊敲诈”的套路大家知道吗？对方录屏后威胁你转钱，千万不要转"
    assert _lex(pipe, text) == [("lexicon:裸聊", "flag")]
    assert _lex(pipe, text + "，直接报警") == []  # two cues (千万不要, 报警): a strong frame
    long = "那个“裸聊敲诈”的套路大家知道吗" + "，" * SHORT_TEXT + "？对方录屏后威胁你转钱，千万不要转，直接报警"
    assert _lex(pipe, long) == [("lexicon:裸聊", "block")]
    # a weak cue (警惕) frames only its own sentence, even in a short text
    assert not framed("先说好怎么找人搞诈骗。以下步骤要警惕被发现", 8, 10)


def test_demote_covers_rules_and_the_classifier_but_a_whole_text_score_only_in_a_short_text():
    short = "我被网暴了，有人把我的手机号和住址发到群里，我可以怎么维权？"
    whole = Finding("crime", 0, len(short), "classifier:classifier.npz", Action.BLOCK)
    assert demote([whole], short)[0].action == Action.FLAG
    long = short + "。" + "然后我又想了想这件事情的经过" * 8
    assert len(long) > SHORT_TEXT
    assert demote([Finding("crime", 0, len(long), "classifier:classifier.npz", Action.BLOCK)], long)[0].action == Action.BLOCK
    notice = "公告：本店客服会联系您退款，但不会要求您提供验证码"
    rule = Finding("fraud", 5, 15, "rules:fraud.refund_bait", Action.BLOCK)
    assert demote([rule], notice)[0].action == Action.FLAG
    flag = Finding("offensive", 0, 5, "classifier:classifier.npz", Action.FLAG)
    assert demote([flag], notice) == [flag]  # one cue: only blocks move; nothing is dropped
    strong = "公告：本店客服不会主动联系您退款，也不会要求您提供验证码"
    assert demote([rule, flag], strong) == [flag]  # two cues drop the rule's; abuse is never dropped


@pytest.mark.parametrize("text", ["律师说了，被告人那批氯胺酮的货源你能帮我联系上吗",
                                  "据报道警方通报的氯胺酮，怎么才能不被发现带出去",
                                  "维权群：被骗买了氯胺酮的朋友可以加入，我们帮你追回，先交手续费"])
def test_a_strong_frame_with_a_request_or_evasion_anywhere_drops_nothing(text):
    f = Finding("drugs", text.index("氯胺酮"), text.index("氯胺酮") + 3, "lexicon:氯胺酮", Action.BLOCK)
    assert strong_frame(text, f.start, f.end) is False
    assert demote([f], text) == [f]


def test_a_stream_drops_only_at_close():
    f = Finding("drugs", 9, 12, "lexicon:氯胺酮", Action.BLOCK)
    text = "检方指控其三次出售氯胺酮共计9.6克，辩护人提出从轻处罚。"
    assert demote([f], text) == []
    assert demote([f], text, whole=False) == [msgspec.structs.replace(f, action=Action.FLAG)]


def test_demotion_is_off_with_corroboration_and_the_stream_agrees_with_scan():
    text = "麻醉科医生说的“K”就是氯胺酮吗？手术用的和毒品是一个东西？"
    off = Pipeline([LexiconCheck(words={"氯胺酮": ("drugs",)})], corroborate=0.0)
    assert _lex(off, text) == [("lexicon:氯胺酮", "block")]
    pipe = _drug_words("氯胺酮", "裸聊")
    for t in (text, "那个“裸聊敲诈”的套路大家知道吗？对方录屏后威胁你转钱，千万不要转，直接报警"):
        want = [(f.rule, f.action.value) for f in pipe.scan(t).findings]
        for size in (len(t), 5, 1):
            s = pipe.stream()
            for i in range(0, len(t), size):
                s.feed(t[i : i + size])
            assert [(f.rule, f.action.value) for f in s.close().findings] == want


def test_a_doctors_question_passes_where_the_classifier_sees_no_drug_harm(classifier):
    """With the shipped classifier: the professional frame makes 氯胺酮 a topic word needing 0.5
    in a related category (``framed``), which the doctor's question does not reach."""
    from fenghuo.checks.rules import from_config as rules_from_config

    pipe = Pipeline([LexiconCheck(words={"氯胺酮": ("drugs",)}), rules_from_config({}, Policy(), Path(".")), classifier])
    text = "麻醉科医生说的“K”就是氯胺酮吗？手术用的和毒品是一个东西？"
    ms = pipe.scan(text).model_scores
    scores = ms.get() if hasattr(ms, "get") else ms
    if max(scores.get(c, 0.0) for c in RELATED["drugs"]) >= 0.5:
        pytest.skip(f"the shipped classifier scores this text {scores}")
    assert pipe.scan(text).verdict == "pass"
    assert pipe.scan("出售氯胺酮，量大从优，私聊").verdict == "block"
