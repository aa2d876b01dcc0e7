"""Evasion variants of listed words: pinyin, homophones and split characters.

Normalisation (``normalize.py``) already undoes separators, full width, case and traditional
characters. Three more evasions need the words themselves rewritten, which this module does
once at compile time, so harmless text pays at most one extra scan:

- **pinyin** (``fa lun gong``, ``falungong``, ``FaLunGong``): the word's toneless pinyin joined is
  added as an ASCII word (so it needs ASCII word boundaries, and may be spaced as syllables).
- **homophones** (「发轮功」 for 「法轮功」): every Chinese character is mapped to one representative
  of its toneless pinyin syllable (``fa``: 发, 法, 伐 … → one code point). The words are mapped
  the same way and compiled into a second, small matcher, which scans the text mapped the same
  way (one table gather of the normalised codes). A hit whose text is the word itself is left
  to the exact matcher.
- **split characters** (「氵去轮功」 for 「法轮功」): a hand-written table of left-right splits of
  characters common in listed words (``SPLITS``); each word gets one variant per splittable
  character and one with all of them split. There is no free decomposition data set in the
  package registries we can use at run time, so coverage is this table only (documented).

Only words of at least ``MIN_CHARS`` Chinese characters whose action is ``block`` get variants:
shorter pinyin strings and homophones collide with ordinary words and names (measured in
docs/checks.md), and a demoted (flag) word is one that already fires on harmless text.
Readings come from pypinyin's character table (first reading per character); a word with a
polyphonic character is romanised with pypinyin's phrase-aware ``lazy_pinyin``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fenghuo.checks.normalize import decode_quad, encode_quad

LAYERS = ("pinyin", "homophone", "split")
MIN_CHARS = 3

# Left-right (and a few top-bottom) splits as people type them to dodge filters. Written here
# from the characters' shapes; kept to characters frequent in the block-listed words.
SPLITS: dict[str, str] = {
    "法": "氵去", "轮": "车仑", "功": "工力", "赌": "贝者", "博": "十尃", "枪": "木仓", "炸": "火乍",
    "弹": "弓单", "药": "艹约", "妓": "女支", "嫖": "女票", "娼": "女昌", "奸": "女干", "婊": "女表",
    "性": "忄生", "独": "犭虫", "胡": "古月", "江": "氵工", "泽": "氵圣", "涛": "氵寿", "吸": "口及",
    "砍": "石欠", "输": "车俞", "骗": "马扁", "账": "贝长", "财": "贝才", "彩": "采彡", "投": "扌殳",
    "注": "氵主", "押": "扌甲", "抢": "扌仓", "劫": "去力", "怖": "忄布", "腿": "月退", "胸": "月匈",
    "脱": "月兑", "裸": "衤果", "阴": "阝月", "陪": "阝咅", "睡": "目垂", "约": "纟勺", "妹": "女未",
    "姐": "女且", "妈": "女马", "嫩": "女敕", "销": "钅肖", "钱": "钅戋", "银": "钅艮", "械": "木戒",
    "政": "正攵", "权": "木又", "动": "云力", "乱": "舌乚", "冰": "冫水", "海": "氵每", "洛": "氵各",
    "证": "讠正", "说": "讠兑", "诈": "讠乍", "跳": "足兆", "组": "纟且", "织": "纟只", "社": "礻土",
    "神": "礻申", "秘": "禾必", "私": "禾厶", "敌": "舌攵", "炮": "火包", "烟": "火因", "粉": "米分",
    "精": "米青", "液": "氵夜", "操": "扌喿", "插": "扌臿", "摸": "扌莫", "揉": "扌柔", "搞": "扌高",
    "码": "石马", "孩": "子亥", "骚": "马蚤", "淫": "氵㸒", "毒": "龶毋", "党": "尚儿", "杀": "乂木",
}


@dataclass(frozen=True)
class Readings:
    syllable: dict[str, str]  # character -> toneless first reading
    polyphonic: frozenset  # characters with more than one reading
    canon: np.ndarray  # uint32[0x110000]: code point -> quad code of its syllable's representative


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def readings() -> Readings:
    """pypinyin's character table folded into what the layers need (~0.5 s, once per process)."""
    with _LOCK:
        from pypinyin.contrib.tone_convert import to_normal
        from pypinyin.pinyin_dict import pinyin_dict

        syllable: dict[str, str] = {}
        poly = set()
        rep: dict[str, int] = {}
        canon = np.arange(0x110000, dtype=np.uint32)
        for cp in sorted(pinyin_dict):
            readings_ = pinyin_dict[cp].split(",")
            s = to_normal(readings_[0]).replace("ü", "v")
            if not s.isascii() or not s.isalpha():
                continue
            ch = chr(cp)
            syllable[ch] = s
            if len({to_normal(r) for r in readings_}) > 1:
                poly.add(ch)
            canon[cp] = rep.setdefault(s, cp)
        return Readings(syllable, frozenset(poly), encode_quad(canon))


def _is_han(word: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" for c in word)


def pinyin_of(word: str) -> list[str] | None:
    """Toneless syllables of an all-Chinese word, None if a character has no reading."""
    r = readings()
    if any(c in r.polyphonic for c in word):
        from pypinyin import Style, lazy_pinyin

        syl = [s.replace("ü", "v") for s in lazy_pinyin(word, style=Style.NORMAL, errors="ignore")]
        return syl if len(syl) == len(word) and all(s.isascii() and s.isalpha() for s in syl) else None
    out = [r.syllable.get(c) for c in word]
    return None if None in out else out  # type: ignore[return-value]


def canonical(word: str) -> str:
    """The word with each character replaced by its syllable's representative."""
    canon = readings().canon
    q = canon.take(np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32))
    return decode_quad(q).tobytes().decode("utf-32-le")


def canonical_codes(codes: np.ndarray) -> np.ndarray:
    """Normalised quad codes → the homophone-canonical quad codes (one decode, one gather)."""
    return readings().canon.take(decode_quad(codes))


def eligible(word: str) -> bool:
    return len(word) >= MIN_CHARS and _is_han(word)


def pinyin_variants(word: str) -> list[tuple[str, tuple[int, ...]]]:
    """(ASCII word, syllable lengths) — the lengths let the text space it by syllable."""
    syl = pinyin_of(word)
    if not syl:
        return []
    return [("".join(syl), tuple(map(len, syl)))]


def split_variants(word: str, normalise=None) -> list[str]:
    """One variant per splittable character, and one with all of them split."""
    idx = [i for i, c in enumerate(word) if c in SPLITS]
    if not idx:
        return []
    out = []
    for i in idx:
        out.append(word[:i] + SPLITS[word[i]] + word[i + 1 :])
    if len(idx) > 1:
        out.append("".join(SPLITS.get(c, c) for c in word))
    if normalise is not None:
        out = [normalise(v) for v in out]
    return out


def extend(words: list[str], blockers: list[int], layers, normalise) -> tuple[list[tuple[str, int, str]], dict[str, tuple[int, ...]]]:
    """Pinyin and split variants of ``words[i]`` for ``i`` in ``blockers``, as
    ``(variant, i, layer)``, skipping variants that are already words; and the syllable
    lengths of each pinyin variant (how the text may space it)."""
    taken = set(words)
    out: list[tuple[str, int, str]] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for i in blockers:
        w = words[i]
        if "pinyin" in layers:
            for v, shape in pinyin_variants(w):
                if v not in taken:
                    taken.add(v)
                    out.append((v, i, "pinyin"))
                    shapes[v] = shape
        if "split" in layers:
            for v in split_variants(w, normalise):
                if v and v not in taken:
                    taken.add(v)
                    out.append((v, i, "split"))
    return out, shapes


class Homophones:
    """The homophone layer: a matcher over the canonical forms of the block words. Its hits are
    reported as pattern ids ``base + k`` of the lexicon's compiled state, where the lexicon
    keeps, for each ``k``, the listed word's categories under the rule ``…~homophone``."""

    def __init__(self, owners: list[int], engine, base: int) -> None:
        self.owners = owners  # k -> index of the listed word
        self.engine = engine
        self.base = base

    @classmethod
    def build(cls, words: list[str], blockers: list[int], engine_name: str, cache_dir, base: int) -> Homophones | None:
        from fenghuo.checks.matcher import make_engine

        seen: dict[str, int] = {}
        for i in blockers:
            seen.setdefault(canonical(words[i]), i)
        if not seen:
            return None
        return cls(list(seen.values()), make_engine(list(seen), engine_name, cache_dir), base)

    def find(self, n) -> list[int]:
        """Flat ``[pattern id, end, …]`` in the lexicon's ids (normalised positions)."""
        if not n.codes.size:
            return []
        raw = self.engine.scan_raw(canonical_codes(n.codes))
        if raw:
            base = self.base
            raw[0::2] = [base + k for k in raw[0::2]]
        return raw
