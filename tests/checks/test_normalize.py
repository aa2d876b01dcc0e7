import random

import numpy as np
import pytest

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.normalize import Normaliser, default_normaliser


@pytest.mark.parametrize(
    "evasion, plain",
    [
        ("ＡＢＣ", "abc"),  # full-width, upper case
        ("賭博", "赌博"),  # traditional
        ("法*轮", "法轮"),
        ("赌 博", "赌博"),
        ("赌_博", "赌博"),
        ("赌\u200b博", "赌博"),  # zero-width space
        ("赌\ufeff博", "赌博"),  # BOM / zero-width no-break space
        ("赌\u0336博", "赌博"),  # combining strike-through
        ("𝐒𝐄𝐗", "sex"),  # mathematical bold
        ("①②", "12"),  # one-to-many compatibility forms take the exact slow path
    ],
)
def test_real_evasions_normalise_to_the_plain_word(evasion, plain):
    assert default_normaliser().normalise_text(evasion) == plain


def test_line_breaks_and_sentence_punctuation_stay_as_boundaries():
    n = default_normaliser()
    assert n.normalise_text("赌\n博") == "赌\n博"
    assert n.normalise_text("赌。博") == "赌。博"
    assert n.normalise_text("赌，博") == "赌,博"


def test_options_can_be_switched_off():
    n = Normaliser(t2s=False, fold_case=False, drop_separators=False)
    assert n.normalise_text("賭 Ａ") == "賭 A"


def test_positions_map_back_to_the_original():
    n = default_normaliser()
    text = "a**b①c"
    x = n.normalise(text)
    assert x.text() == "ab1c"
    assert [int(p) for p in x.to_original(np.arange(4))] == [0, 3, 4, 5]


# Real lexicons mix ASCII letters and digits into Chinese words (the shared one has K粉, 3P,
# QQ群…): those are what full-width and case evasions hit.
WORDS = ["赌博", "法轮功", "冰毒", "海洛因", "六合彩", "K粉", "qq群", "AV女优", "3P群", "摇头丸2号"]
VARIANTS = {"赌": "賭", "轮": "輪", "彩": "綵"}
SEPS = ["*", " ", "_", "\u200b", "-", ".", "·", "\u3000"]


def test_random_evasions_report_a_span_covering_the_original_characters():
    check = LexiconCheck(words=dict.fromkeys(WORDS, ("crime",)))
    rng = random.Random(7)
    full_width = 0
    for _ in range(600):
        word = rng.choice(WORDS)
        chars = [VARIANTS.get(c, c) if rng.random() < 0.5 else c for c in word]
        chars = [c.swapcase() if c.isascii() and rng.random() < 0.5 else c for c in chars]
        chars = [chr(ord(c) + 0xFEE0) if c.isascii() and rng.random() < 0.5 else c for c in chars]
        full_width += any("\uff01" <= c <= "\uff5e" for c in chars)
        evaded = "".join(c + "".join(rng.choice(SEPS) for _ in range(rng.randint(0, 2))) for c in chars[:-1]) + chars[-1]
        prefix = "".join(rng.choice("今天天气很好，我们去公园。") for _ in range(rng.randint(0, 8)))
        suffix = "".join(rng.choice("明天见！好的。") for _ in range(rng.randint(0, 8)))
        text = prefix + evaded + suffix
        hits = [f for f in check.scan(text).findings if f.rule == f"lexicon:{default_normaliser().normalise_text(word)}"]
        assert hits, text
        f = hits[0]
        assert (f.start, f.end) == (len(prefix), len(prefix) + len(evaded)), text
        assert text[f.start] == chars[0] and text[f.end - 1] == chars[-1]
    assert full_width > 100  # the full-width forms were really exercised


def _reference(n: Normaliser, text: str) -> tuple[str, list[int]]:
    """Per-character definition of the normalised text and its map back (slow, obviously right)."""
    from fenghuo.checks.normalize import DROP, EXPAND, decode_quad

    out, origin = [], []
    for i, ch in enumerate(text):
        m = n.tables.single[ord(ch)]
        if m == DROP:
            continue
        s = n.tables.multi[ord(ch)] if m == EXPAND else chr(int(decode_quad(np.array([m]))[0]))
        out.append(s)
        origin += [i] * len(s)
    return "".join(out), origin


def test_vectorised_map_back_equals_the_per_character_definition():
    n = default_normaliser()
    rng = random.Random(11)
    alphabet = "赌博賭ＡaB ①②ﬁ‼*_\u200b，\n🀄𝐒"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        want, origin = _reference(n, text)
        x = n.normalise(text)
        assert x.text() == want, text
        assert [int(p) for p in x.to_original(np.arange(len(want)))] == origin, text


def test_long_texts_normalised_in_blocks_map_back_like_the_definition(monkeypatch):
    import fenghuo.checks.normalize as nm

    monkeypatch.setattr(nm, "BLOCK", 7)  # many block boundaries, incl. drops/expansions on them
    n = default_normaliser()
    rng = random.Random(12)
    for text in ("ﬁ" * 30, "a" * 20 + "ﬁ" * 10, "*" * 20 + "‼" * 20):  # output longer than input
        want, origin = _reference(n, text)
        x = n.normalise(text)
        assert x.text() == want and [int(p) for p in x.to_original(np.arange(len(want)))] == origin, text
    for alphabet in ("赌博賭 *_\u200b", "赌博賭 *①ﬁ‼\n"):
        for _ in range(200):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
            want, origin = _reference(n, text)
            x = n.normalise(text)
            assert x.text() == want, text
            assert [int(p) for p in x.to_original(np.arange(len(want)))] == origin, text
