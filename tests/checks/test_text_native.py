"""The C kernel of normalisation and the lexicon's scan input (``checks/_textnative.c``) gives
exactly what its numpy fallback gives: the same ``Normalised`` arrays, the same bytes handed to
hyperscan, the same findings — over COLD dev rows and cuts, evasions (separators, full width,
traditional characters, split characters, homophones, expansions, lone surrogates) and random
text. With ``FENGHUO_REQUIRE_NATIVE=1`` (CI) a kernel that did not load is a failure."""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
import random
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenghuo.checks import normalize, variants
from fenghuo.checks.normalize import Normaliser, default_normaliser

NATIVE = normalize.NATIVE is not None
needs_native = pytest.mark.skipif(not NATIVE, reason="the _textnative kernel is not built (or FENGHUO_NATIVE=0)")

EVASIONS = [
    "", " ", "a", "你", "法*轮*功", "法 轮 功", "法\u200b轮\u200b功", "法-轮_功~", "賭博網站註冊送彩金", "ｆａｌｕｎｇｏｎｇ",
    "氵去车仑工力", "发轮功好", "六合婇开奖", "fa lun gong", "FaLunGong", "①②③", "ﬁne", "Ⓐⓑⓒ ①号 ㊙", "😀" * 5, "\u0301a\u0301",
    "第一行\n法轮\n功", "色b哥 3级片", "几点营业", "s e x y", "\ud800x\udfff", "\U0001d400\U0001d41a", "Это тест 测试", "\x00\x7f\x80",
    "，。！？；：、", "\u3000\u3000全角空格", "ｘＡ１２", "😊赌😊博😊", "／赌／博／", "a" * 300 + "①", "冰" + "\u200d" * 40 + "毒",
]


def _cold() -> list[str]:
    from fenghuo.platform.paths import shared_data_dir

    d = shared_data_dir()
    if d is None:
        return []
    with (d / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [row[4] for row in list(csv.reader(fh))[1:]]
    joined = "".join(rows)
    return rows[::3] + [joined[i : i + 50] for i in range(0, 50 * 1500, 50)]


def _same_normalised(a, b) -> None:
    assert a.length == b.length
    for f in ("codes", "steps", "shift", "raw", "kept"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            assert x.dtype == y.dtype, f
            assert np.array_equal(x, y), f


def _fallback_normaliser() -> Normaliser:
    n = copy.copy(default_normaliser())
    n._kernel = None
    return n


def _fallback_lexicon(lx):
    """The same check with the numpy path: no kernel on its normaliser or its compiled state."""
    fb = copy.copy(lx)
    fb.normaliser = copy.copy(lx.normaliser)
    fb.normaliser._kernel = None
    fb._state = dataclasses.replace(lx._state, kernel=None)
    assert fb._state.fast is None or fb._state.fast[3] is None
    return fb


def test_kernel_loaded_when_required():
    if os.environ.get("FENGHUO_REQUIRE_NATIVE") == "1":
        assert NATIVE, "FENGHUO_REQUIRE_NATIVE=1 but fenghuo.checks._textnative did not load (build it: make native)"
        assert default_normaliser()._kernel is not None


def test_fenghuo_native_0_forces_the_fallback():
    code = "from fenghuo.checks import normalize; print(normalize.NATIVE is None, normalize.default_normaliser()._kernel is None)"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, FENGHUO_NATIVE="0"), capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


@needs_native
def test_normalise_matches_numpy_on_cold_and_evasions():
    fb = _fallback_normaliser()
    nat = default_normaliser()
    for t in EVASIONS + _cold():
        _same_normalised(nat.normalise(t), fb.normalise(t))


@needs_native
def test_long_texts_block_by_block():
    """Texts longer than one normalisation block (``Normaliser._blocked``), with drops and
    an expansion in some blocks only."""
    fb = _fallback_normaliser()
    nat = default_normaliser()
    cold = "".join(_cold()) or "今天天气不错，法*轮*功。" * 3000
    for t in (cold[:50_000], cold[:40_000].replace("，", " ") + "⑩", "法 轮 " * 9000, "⑩a" * 20_000):
        _same_normalised(nat.normalise(t), fb.normalise(t))


@needs_native
def test_normalise_matches_numpy_on_every_code_point():
    """Every code point once, in strings of 4,096 (drops and surrogates included; expansions
    left out, since one sends the whole text to the numpy path, and tried one at a time)."""
    fb = _fallback_normaliser()
    nat = default_normaliser()
    expands = set(np.flatnonzero(nat.tables.single == normalize.EXPAND).tolist())
    for lo in range(0, 0x110000, 4096):
        t = "".join(chr(c) for c in range(lo, lo + 4096) if c not in expands)
        _same_normalised(nat.normalise(t), fb.normalise(t))
    for c in sorted(expands)[::7]:
        t = f"a{chr(c)}\u200bb"
        _same_normalised(nat.normalise(t), fb.normalise(t))


def _fuse_numpy(table: np.ndarray, text: str) -> bytes | None:
    raw = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.intp)
    data = table.take(raw, axis=1).tobytes().translate(None, variants.FUSED_DROP)
    return None if variants.FUSED_EXPAND in data else data


@needs_native
def test_fuse_matches_the_gather_on_every_code_point():
    tables = default_normaliser().tables
    table = variants.fused4(tables)
    kernel = normalize.native_kernel(tables, table)
    expands = set(np.flatnonzero(tables.single == normalize.EXPAND).tolist())
    for lo in range(0, 0x110000, 4096):
        t = "".join(chr(c) for c in range(lo, lo + 4096) if c not in expands)
        assert kernel.fuse(t) == _fuse_numpy(table, t)
    assert kernel.fuse("a⑩") is None and kernel.fuse("") == b""  # ⑩ expands to "10"


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # Chinese
        st.sampled_from(list("*. -_~／、，。！？\u200b\u200d\u3000\n😊①ﬁＡｂ１") + ["\ud800"]),
        st.characters(),  # anything, astral and surrogates included
    ),
    max_size=80,
)


@needs_native
@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_random_text_normalise_and_fuse(t):
    _same_normalised(default_normaliser().normalise(t), _fallback_normaliser().normalise(t))
    tables = default_normaliser().tables
    table = variants.fused4(tables)
    assert normalize.native_kernel(tables, table).fuse(t) == _fuse_numpy(table, t)


def _findings(check, texts):
    return [[(f.category, f.start, f.end, f.rule, f.action, f.risk) for f in check.scan(t).findings] for t in texts]


@pytest.fixture(scope="module")
def lexicons():
    """The shipped lexicon check and the same check on the numpy path."""
    from fenghuo.checks.pipeline import load_pipeline

    lx = next(c for c in load_pipeline().checks if c.name == "lexicon")
    return lx, _fallback_lexicon(lx)


def _evasion_texts(lx) -> list[str]:
    """Listed words written the ways people evade (split by separators, full width, traditional,
    split characters, homophones, pinyin) inside short chat."""
    rng = random.Random(7)
    words = [w for w in lx._state.words[: lx._state.listed] if len(w) >= 2][:400]
    simp_to_trad = {}
    for line in (resources.files("fenghuo.checks") / "data/t2s_chars.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            t, s = line.split("\t")
            simp_to_trad.setdefault(s, t)
    r = variants.readings()
    same: dict[str, list[str]] = {}
    for ch, s in r.syllable.items():
        if "\u4e00" <= ch <= "\u9fff":
            same.setdefault(s, []).append(ch)
    out = []
    for w in words:
        out.append("我跟你说" + rng.choice(["*", " ", "\u200b", "／", "😊"]).join(w) + "，加我")
        out.append("".join(simp_to_trad.get(c, c) for c in w) + "吗？")
        out.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w))
        out.append("老板说" + "".join(variants.SPLITS.get(c, c) for c in w))
        out.append("".join(rng.choice(same.get(r.syllable.get(c, ""), [c])[:20]) for c in w) + "，私聊")
        syl = variants.pinyin_of(w) if variants.eligible(w) else None
        if syl:
            out.append("有没有人 " + " ".join(syl))
    return out


@needs_native
def test_lexicon_findings_match_the_fallback(lexicons):
    lx, fb = lexicons
    texts = EVASIONS + _evasion_texts(lx) + _cold()
    nat = _findings(lx, texts)
    assert nat == _findings(fb, texts)
    assert sum(map(bool, nat)) > 100  # the texts do reach the resolution path
    # find_in, as the pipeline calls it, and the main form it leaves for the rules check.
    for t in texts[:2000]:
        a, b = lx.normaliser.normalise(t), fb.normaliser.normalise(t)
        assert lx.find_in(t, a) == fb.find_in(t, b)
        assert a.packed == b.packed


@needs_native
@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_random_text_lexicon(lexicons, t):
    lx, fb = lexicons
    assert _findings(lx, [t]) == _findings(fb, [t])
