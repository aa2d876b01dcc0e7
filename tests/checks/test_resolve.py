"""The two hit resolvers (whole-array for many hits, plain Python for few) must agree exactly."""

import random

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.resolve import resolve_few, resolve_many

WORDS = {"赌博": ("gambling",), "赌博机": ("gambling", "crime"), "法轮": ("politics",), "法轮功": ("politics",),
         "sex": ("porn",), "anal": ("porn",), "冰毒": ("drugs",), "博彩": ("gambling",)}
ALLOW = ["幸运儿", "赌博机构", "essex"]
PIECES = ["赌", "博", "机", "构", "法", "轮", "功", "冰", "毒", "彩", "幸运", "儿", "s", "e", "x", "a", "n", "l",
          " ", "*", "①", "賭", "輪", "，", "\n", "Ｓ", "X", "今天", "sex", "anal", "essex"]


def both(check, text):
    st, n = check._state, check.normaliser.normalise(text)
    raw = st.engine.scan_raw(n.codes)
    return resolve_few(st, text, n, raw) if raw else [], resolve_many(st, text, n, st.engine.hits(raw))


def test_few_and_many_resolvers_agree_on_random_texts():
    check = LexiconCheck(words=WORDS, allow=ALLOW)
    rng = random.Random(5)
    for _ in range(2000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25)))
        few, many = both(check, text)
        assert few == many, text


def test_few_and_many_resolvers_agree_on_the_shared_lexicon(shared_lexicon, shared):
    import csv

    with (shared / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [r[4] for r in list(csv.reader(fh))[1:400]]
    for text in rows + ["".join(rows[i : i + 8]) for i in range(0, 400, 8)]:
        few, many = both(shared_lexicon, text)
        assert few == many, text


def test_scan_uses_either_path_with_the_same_result():
    check = LexiconCheck(words=WORDS, allow=ALLOW)
    one = "我想去賭 博，还有法*轮*功和幸运儿 sex "
    many = one * 20  # more hits than the small path takes
    assert len(check.scan(many).findings) == 20 * len(check.scan(one).findings)


def test_fallback_engine_gives_the_same_findings():
    """ahocorasick-rs (where hyperscan has no wheel) feeds the same resolvers."""
    fast = LexiconCheck(words=WORDS, allow=ALLOW)
    fallback = LexiconCheck(words=WORDS, allow=ALLOW, engine="ahocorasick-rs")
    one = "我想去賭 博机，还有法*轮*功和幸运儿 sex Sussex "
    for text in (one, one * 20):  # the few-hits and the many-hits paths
        assert fallback.scan(text).findings == fast.scan(text).findings


def test_short_word_tests_cached_on_the_codes_bytes_agree_with_the_plain_ones(shared):
    """``resolve_few``'s short-word tests keyed on slices of the codes' bytes (``_short_ok_bytes``,
    ``_ordinary_bytes``) give what ``short_ok`` and ``ordinary`` give, first time and cached,
    windows clamped at both ends of the text included."""
    import csv

    from fenghuo.checks import resolve
    from fenghuo.checks.normalize import default_normaliser

    with (shared / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [r[4][:40] for r in list(csv.reader(fh))[1:120]]
    rng = random.Random(3)
    norm = default_normaliser()
    for text in rows + ["赌博", "法轮功", "几点营业", "发轮功"]:
        codes = norm.normalise(text).codes
        cb = codes.tobytes()
        for _ in range(6):
            if codes.size < 2:
                break
            s = rng.randrange(codes.size - 1)
            e = min(codes.size, s + rng.choice((2, 2, 3, 4)))
            for _rep in range(2):  # the second time from the caches
                assert resolve._short_ok_bytes(cb, codes, s, e) == resolve.short_ok(codes, s, e), (text, s, e)
                assert resolve._ordinary_bytes(cb, codes, s, e) == resolve.ordinary(codes, s, e), (text, s, e)
