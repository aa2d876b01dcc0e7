"""The short-message fast paths give exactly what the general paths give.

``Homophones.find`` gathers the hyperscan input straight from a packed table when nothing in the
text expands (``variants.composed3``, from the normaliser's own code points ``Normalised.raw``,
only the kept ones when separators were dropped); the general path re-encodes the text, gathers
the uint32 table, drops separators and packs. Random texts made of the words' own characters,
their homophones, separators, traditional forms and expanding characters (①) must give the same
hits either way, and the normaliser's ``raw``/``kept`` must describe the text."""

import random

import msgspec
import numpy as np
import pytest

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.matcher import pack3
from fenghuo.checks.variants import composed, composed3

WORDS = {"法轮功": ("politics",), "六合彩": ("gambling",), "摇头丸": ("drugs",), "卖淫嫖娼": ("porn", "crime"),
         "冰毒": ("drugs",), "中国共产党": ("politics",)}
# The words' characters, homophones of them, look-alikes, separators, a traditional form, an
# expansion (①), ASCII and plain filler.
ALPHABET = list("法轮功六合彩摇头丸卖淫嫖娼中国共产党发论工溜和菜要投完买因票昌忠过供铲当輪車仑氵去") + [
    " ", "*", "-", ".", "\u200b", "，", "。", "①", "ﬁ", "a", "B", "你", "好", "的", "是"]


SOUNDS = {"法": "法发伐", "轮": "轮论仑輪", "功": "功工公", "六": "六溜陆", "合": "合和盒", "彩": "彩菜踩", "摇": "摇要",
          "头": "头投", "丸": "丸完玩", "卖": "卖买迈", "淫": "淫因银", "嫖": "嫖票瓢", "娼": "娼昌常", "中": "中忠钟",
          "国": "国过", "共": "共供", "产": "产铲", "党": "党当挡"}


def _text(rng):
    """Filler with, mostly, a listed word spelt with random homophones and separators in it."""
    out = []
    for _ in range(rng.randint(1, 4)):
        out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))))
        if rng.random() < 0.7:
            word = rng.choice([w for w in WORDS if len(w) >= 3])
            sep = rng.choice(["", "", "", " ", "*", "\u200b", "①"])
            out.append(sep.join(rng.choice(SOUNDS.get(c, c)) for c in word))
    return "".join(out)[:80]


@pytest.fixture(scope="module")
def check():
    return LexiconCheck(words=WORDS)


def _general(check, text, n):
    """The general path: no ``raw`` (as for a text normalised block by block)."""
    return check._state.homophones.find(text, msgspec.structs.replace(n, raw=None, kept=None), check.normaliser.tables)


def test_fast_homophone_path_equals_the_general_one(check):
    rng = random.Random(19)
    homo = check._state.homophones
    assert homo is not None and homo.packed
    hits = fast_used = 0
    for _ in range(3000):
        text = _text(rng)
        n = check.normaliser.normalise(text)
        fast = homo.find(text, n, check.normaliser.tables)
        assert fast == _general(check, text, n), text
        hits += bool(fast)
        fast_used += n.shift is None
    assert hits > 100 and fast_used > 1000  # both the paths and hits were exercised


def test_normalised_raw_and_kept_describe_the_text(check):
    norm = check.normaliser
    for text in ["法轮功", "法 轮*功", "说基建方面，毕竟", "①法轮功", ""]:
        n = norm.normalise(text)
        raw = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        assert n.raw.tolist() == raw.tolist()
        if n.shift is None and n.steps is not None:
            assert n.kept.tolist() == [norm.tables.single[c] < 0xFFFFFFFE for c in raw.tolist()]
            src = raw[n.kept]
        else:
            src = raw
        if n.shift is None and text:
            c = composed(norm.tables).take(src)
            assert composed3(norm.tables).take(src).tobytes() == pack3(c).tobytes()


def test_scan_findings_unchanged_on_random_texts(check):
    """Whole scans: the findings equal those computed with the general homophone path."""
    rng = random.Random(7)
    homo = check._state.homophones
    for _ in range(500):
        text = _text(rng)
        got = check.scan(text).findings
        homo.packed = False
        try:
            want = check.scan(text).findings
        finally:
            homo.packed = True
        assert got == want, text


def test_pack3_equals_the_structured_field_copy():
    """``pack3``'s strided view gives the bytes of the plain structured-field copy."""
    from fenghuo.checks.matcher import _V3

    rng = random.Random(3)
    for n in (0, 1, 2, 7, 50, 1000):
        codes = np.array([rng.getrandbits(32) for _ in range(n)], dtype=np.uint32)
        assert pack3(codes).tobytes() == codes.view(_V3)["b"].copy().tobytes()
        spread = (np.arange(3 * n, dtype=np.int64)[::3] | 0x80808080)  # strided, other dtype
        assert pack3(spread).tobytes() == np.ascontiguousarray(spread, np.uint32).view(_V3)["b"].copy().tobytes()
