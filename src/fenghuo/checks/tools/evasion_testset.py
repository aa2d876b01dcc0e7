"""Generated evasions of listed words, to measure what the lexicon's evasion handling catches.

``generate(words, seed)`` writes each word the ways people dodge a filter — separators
(``法*轮*功``, ``法 轮 功``), full width, traditional characters, split characters (``氵去轮功``),
pinyin (``fa lun gong``, ``FaLunGong``) and homophones (``发轮功``) — inside harmless context,
and ``score(check, cases)`` gives the detection rate per kind: a case counts when a finding
covers the disguised word. Used by the tests and for the figures in docs/checks.md.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from importlib import resources

from fenghuo.checks.variants import SPLITS, pinyin_of, readings

KINDS = ("separator", "full_width", "traditional", "split", "pinyin", "homophone")
_SEPS = ["*", " ", "-", "_", "·", "/", "~", "|", "\u200b"]
_CONTEXT = ["今天", "听说", "有人在群里聊", "请问", "关于", "我看到一篇讲"]
_TAIL = ["的事", "怎么样", "。", "，你知道吗", "的消息"]


@dataclass(frozen=True)
class Case:
    word: str
    kind: str
    disguised: str
    text: str
    start: int  # of ``disguised`` in ``text``


def _s2t() -> dict[str, str]:
    out: dict[str, str] = {}
    text = resources.files("fenghuo.checks").joinpath("data/t2s_chars.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            if trad != simp:
                out.setdefault(simp, trad)
    return out


def _homophone(word: str, rng: random.Random) -> str | None:
    r = readings()
    by_syl: dict[str, list[str]] = {}
    for ch, s in r.syllable.items():
        if "\u4e00" <= ch <= "\u9fa5" and ch not in r.polyphonic:
            by_syl.setdefault(s, []).append(ch)
    idx = [i for i, c in enumerate(word) if c in r.syllable and len(by_syl.get(r.syllable[c], [])) > 1]
    if not idx:
        return None
    i = rng.choice(idx)
    alts = [c for c in by_syl[r.syllable[word[i]]] if c != word[i]]
    return word[:i] + rng.choice(alts) + word[i + 1 :]


def disguise(word: str, kind: str, rng: random.Random, s2t: dict[str, str]) -> str | None:
    """One disguised spelling of ``word``, or None when the kind does not apply to it."""
    if kind == "separator":
        return "".join(c + rng.choice(_SEPS) for c in word[:-1]) + word[-1]
    if kind == "full_width":
        if not any(c.isascii() and c.isalnum() for c in word):
            return None
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in word)
    if kind == "traditional":
        t = "".join(s2t.get(c, c) for c in word)
        return t if t != word else None
    if kind == "split":
        idx = [i for i, c in enumerate(word) if c in SPLITS]
        if not idx:
            return None
        i = rng.choice(idx)
        return word[:i] + SPLITS[word[i]] + word[i + 1 :]
    if kind == "pinyin":
        syl = pinyin_of(word)
        if not syl:
            return None
        style = rng.randrange(3)
        return " ".join(syl) if style == 0 else "".join(syl) if style == 1 else "".join(s.capitalize() for s in syl)
    if kind == "homophone":
        return _homophone(word, rng)
    raise ValueError(f"unknown evasion kind {kind!r} / 未知变体类型")


def generate(words: list[str], seed: int = 2024, kinds=KINDS) -> list[Case]:
    rng = random.Random(seed)
    s2t = _s2t()
    cases = []
    for w in words:
        for kind in kinds:
            d = disguise(w, kind, rng, s2t)
            if d is None:
                continue
            head = rng.choice(_CONTEXT)
            # A space around pinyin, as people write it between Chinese characters.
            pad = " " if kind == "pinyin" else ""
            text = head + pad + d + pad + rng.choice(_TAIL)
            cases.append(Case(w, kind, d, text, len(head) + len(pad)))
    return cases


def score(check, cases: list[Case]) -> dict[str, dict]:
    """Detection rate per kind (and ``all``): a finding overlapping the disguised word."""
    n: Counter = Counter()
    caught: Counter = Counter()
    for c in cases:
        end = c.start + len(c.disguised)
        hit = any(f.start < end and f.end > c.start for f in check.scan(c.text).findings)
        for k in (c.kind, "all"):
            n[k] += 1
            caught[k] += hit
    return {k: {"n": n[k], "detected": round(caught[k] / n[k], 4)} for k in n}
