import random

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.pii import PIICheck
from fenghuo.checks.pipeline import Pipeline


def pipe():
    return Pipeline([LexiconCheck(words={"赌博": ("gambling",), "法轮功": ("politics",), "sex": ("porn",)}), PIICheck()])


def feed_all(p, chunks):
    s = p.stream()
    got = []
    for c in chunks:
        got += s.feed(c)
    v = s.close()
    return got, v


def test_word_split_across_two_chunks_is_found_once_with_stream_spans():
    got, v = feed_all(pipe(), ["今天去赌", "博，然后"])
    assert [(f.category, f.start, f.end) for f in got] == [("gambling", 3, 5)]
    assert [(f.category, f.start, f.end) for f in v.findings] == [("gambling", 3, 5)]


def test_split_with_separators_and_tiny_chunks():
    text = "前言……法 * 轮 * 功后记，再来一次賭_博。"
    got, v = feed_all(pipe(), list(text))
    found = sorted((f.category, text[f.start : f.end]) for f in v.findings)
    assert found == [("gambling", "賭_博"), ("politics", "法 * 轮 * 功")]


def test_stream_matches_whole_text_scan_for_random_chunking():
    p = pipe()
    text = "电话13800138000，赌博不好。no sex please, Sussex. 又一个赌博！邮箱a.b@example.com 结束" * 3
    whole = sorted((f.category, f.start, f.end) for f in p.scan(text).findings)
    rng = random.Random(3)
    for _ in range(30):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 25)))
        chunks = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        _, v = feed_all(p, chunks)
        assert sorted((f.category, f.start, f.end) for f in v.findings) == whole


def test_ascii_word_at_chunk_end_waits_for_the_next_chunk():
    s = pipe().stream()
    assert s.feed("I love sex") == []  # could be "sexton"
    assert s.feed("ton") == []
    assert s.close().findings == []


def test_pii_split_across_chunks():
    got, v = feed_all(pipe(), ["电话1380013", "8000 好"])
    assert [(f.category, f.start, f.end) for f in v.findings] == [("pii.mobile", 2, 13)]


def _long_email(rng, length):
    """A syntactically valid e-mail of about ``length`` characters (local part ≤ 64)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    local = "".join(rng.choice(letters) for _ in range(rng.randint(6, 64)))
    rest, labels = length - len(local) - 1 - 4, []
    while rest > 0:
        n = min(rest, rng.randint(1, 60))
        labels.append("".join(rng.choice(letters) for _ in range(n)))
        rest -= n + 1
    return f"{local}@{'.'.join(labels)}.com"


def test_pii_tail_covers_the_longest_possible_match():
    from fenghuo.checks.pii import EMAIL_MAX, MAX_LEN, MAX_MATCH
    from fenghuo.checks.stream import PII_TAIL

    assert MAX_LEN["email"] == EMAIL_MAX == 254 and MAX_MATCH == 254
    assert PII_TAIL > MAX_MATCH
    # E-mails longer than RFC 5321 allows are not reported at all.
    text = "a@" + "b" * 250 + ".com"
    assert PIICheck().scan(text).findings == []


def test_stream_finds_long_emails_exactly_as_the_whole_text_scan_does():
    rng = random.Random(5)
    check = PIICheck()
    p = Pipeline([check])
    long_found = 0
    for _ in range(40):
        parts = []
        for _ in range(rng.randint(1, 4)):
            length = rng.choice([40, 100, 123, 200, 250, 254, 255, 300])
            e = _long_email(rng, length)
            parts.append(e)
            parts.append(rng.choice(["，电话13800138000，", " 和 ", "。", " 13800138000abc", ".com13800138000abc ", "_x@y.cn.", " ip 10.0.0.1 "]))
        text = "联系" + "".join(parts)
        whole = sorted((f.category, f.start, f.end) for f in p.scan(text).findings)
        long_found += sum(c == "pii.email" and e - s > 96 for c, s, e in whole)
        for chunk in (1, 7, 40, 97):
            _, v = feed_all(p, [text[i : i + chunk] for i in range(0, len(text), chunk)])
            assert sorted((f.category, f.start, f.end) for f in v.findings) == whole, (chunk, text)
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 30)))
        _, v = feed_all(p, [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])])
        assert sorted((f.category, f.start, f.end) for f in v.findings) == whole, text
    assert long_found > 30  # longer than the old 96-character tail


def test_stream_finds_homophone_evasions_as_the_whole_text_scan_does():
    # 涽 reads hūn like 昏: the lexicon's homophone layer catches 涽睡药 for 昏睡药. The stream
    # searched only the main matcher and passed what ``scan`` blocks (issue 12, session 15).
    p = Pipeline([LexiconCheck(words={"昏睡药": ("drugs",)})])
    text = "晚上一起涽睡药，私聊"
    want = [(f.rule, f.start, f.end) for f in p.scan(text).findings]
    assert want == [("lexicon:昏睡药~homophone", 4, 7)]
    for chunks in ([text], list(text), ["晚上一起涽", "睡药，私聊"]):
        got, v = feed_all(p, chunks)
        assert [(f.rule, f.start, f.end) for f in got] == want
        assert [(f.rule, f.start, f.end) for f in v.findings] == want and v.blocked
