"""Evasion variants of listed words: pinyin, homophones and split characters.

Normalisation (``normalize.py``) already undoes separators, full width, case and traditional
characters. Three more evasions need the words themselves rewritten, which this module does
once at compile time, so harmless text pays at most one extra scan:

- **pinyin** (``fa lun gong``, ``falungong``, ``FaLunGong``): the word's toneless pinyin joined is
  added as an ASCII word (so it needs ASCII word boundaries, and may be spaced as syllables).
- **homophones** (「发轮功」 for 「法轮功」): every Chinese character is mapped to one representative
  of its toneless pinyin syllable (``fa``: 发, 法, 伐 … → one code point). The words are mapped
  the same way and matched against the text mapped the same way (one table gather of the
  normalised codes). With hyperscan these patterns sit in the lexicon's main database in a
  byte form of their own (``matcher.homophone_form``), and one scan reads the main form followed
  by the homophone form (``fused_table``); otherwise they are a second, small matcher. A hit
  whose text is the word itself is left to the exact matcher.
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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fenghuo.checks.normalize import DROP as DROP_CODE
from fenghuo.checks.normalize import EXPAND as EXPAND_CODE
from fenghuo.checks.normalize import SPECIAL, decode_quad, encode_quad

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
    key: str = ""  # what they are derived from (``derived_cache.make_key``)


_LOCK = threading.Lock()


def toneless(syllable: str) -> str:
    """``lǜ`` → ``lv``, ``fā`` → ``fa``: decomposed, ü spelt v, tone marks dropped. Our own
    three string operations instead of pypinyin's ``to_normal`` (regex-based, ~50 µs a call:
    5.7 s for its 41k-character table at every start)."""
    d = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(c for c in d if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def readings() -> Readings:
    """pypinyin's character table folded into what the layers need (~0.5 s to build; from the
    disk cache, ``derived_cache``, ~10 ms)."""
    from importlib.metadata import version

    from fenghuo.checks import derived_cache as dc
    from fenghuo.checks import normalize_table

    key = dc.make_key(dc.source_digest(__file__), dc.source_digest(normalize_table.__file__), version("pypinyin"),
                      unicodedata.unidata_version)
    with _LOCK:
        a = dc.load_or_build("readings", key, _fold_readings)
    cps, syl = a["cps"].tolist(), a["syllables"].tolist()
    canon = np.arange(0x110000, dtype=np.uint32)
    canon[a["cps"]] = a["reps"]
    return Readings(dict(zip(map(chr, cps), syl)), frozenset(map(chr, a["polyphonic"].tolist())), encode_quad(canon), key)


def _fold_readings() -> dict[str, np.ndarray]:
    """The readings as arrays: per character with a usable reading its code point, toneless
    syllable and the code point representing that syllable; the polyphonic code points."""
    from pypinyin.pinyin_dict import pinyin_dict

    from fenghuo.checks.derived_cache import strings_to_array

    cps: list[int] = []
    syllables: list[str] = []
    reps: list[int] = []
    poly: list[int] = []
    rep: dict[str, int] = {}
    for cp in sorted(pinyin_dict):
        readings_ = pinyin_dict[cp].split(",")
        s = toneless(readings_[0])
        if not s.isascii() or not s.isalpha():
            continue
        cps.append(cp)
        syllables.append(s)
        reps.append(rep.setdefault(s, cp))
        if len({toneless(r) for r in readings_}) > 1:
            poly.append(cp)
    return {"cps": np.array(cps, dtype=np.uint32), "syllables": strings_to_array(syllables),
            "reps": np.array(reps, dtype=np.uint32), "polyphonic": np.array(poly, dtype=np.uint32)}


def _is_han(word: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" for c in word)


@lru_cache(maxsize=1)
def _phrases() -> dict:
    from pypinyin.phrases_dict import phrases_dict

    return phrases_dict


def pinyin_of(word: str) -> list[str] | None:
    """Toneless syllables of an all-Chinese word, None if a character has no reading.

    A polyphonic character takes its reading from pypinyin's phrase table where a phrase of
    2-4 characters covers it (forward maximum matching, as ``lazy_pinyin`` segments): 银行 →
    yin hang. Not ``lazy_pinyin`` itself: measured ~400 µs a word, 9 s for the curated lexicon
    at every start, against ~20 ms for this."""
    r = readings()
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] in r.polyphonic:
            phrases = _phrases()
            for size in (4, 3, 2):
                for lo in range(max(0, i - size + 1), i + 1):  # a phrase covering position i
                    got = phrases.get(word[lo : lo + size]) if lo + size <= len(word) and lo + size > i else None
                    if got and len(got) == size:
                        s = toneless(got[i - lo][0])
                        break
                else:
                    continue
                break
            else:
                s = r.syllable.get(word[i])
        else:
            s = r.syllable.get(word[i])
        if not s or not (s.isascii() and s.isalpha()):
            return None
        out.append(s)
        i += 1
    return out


def canonical(word: str) -> str:
    """The word with each character replaced by its syllable's representative."""
    canon = readings().canon
    q = canon.take(np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32))
    return decode_quad(q).tobytes().decode("utf-32-le")


_COMPOSED: dict[int, tuple[object, np.ndarray]] = {}


def composed(tables) -> np.ndarray:
    """Cached per normalisation table (there are one or two per process)."""
    got = _COMPOSED.get(id(tables))
    if got is None or got[0] is not tables:
        got = _COMPOSED[id(tables)] = (tables, _compose(tables))
    return got[1]


_COMPOSED3: dict[int, tuple[object, np.ndarray]] = {}


def composed3(tables) -> np.ndarray:
    """``composed(tables)`` stored in the matcher's 3-bytes-per-character form (3.3 MB, once per
    table): a text without separators gathers straight into what hyperscan scans, one numpy
    call instead of a gather and ``pack3`` (1.3 -> 0.5 µs per 50-character message). Entries
    of dropped/expanded code points are meaningless here; ``Homophones.find`` uses it only
    when the text has none."""
    got = _COMPOSED3.get(id(tables))
    if got is None or got[0] is not tables:
        from fenghuo.checks.matcher import pack3

        got = _COMPOSED3[id(tables)] = (tables, pack3(composed(tables)))
    return got[1]


_FUSED: dict[int, tuple[object, np.ndarray]] = {}


# What ``fused_table`` holds, in both rows, for a character the normaliser drops or expands.
# Every byte of a character's 3-byte form is ≥ 0x80 (``normalize.encode_quad``), so these bytes
# occur nowhere else in a gathered text: ``bytes.translate(None, FUSED_DROP)`` removes exactly
# the dropped characters, and a single-byte search (memchr) finds either marker.
FUSED_DROP = b"\x00"
FUSED_EXPAND = b"\x01"


def fused_table(tables) -> np.ndarray:
    """Per original code point, the main matcher's 3 bytes (``pack3`` of the normaliser's table)
    in row 0 and the homophone layer's (``matcher.homophone_form`` of ``composed``) in row 1:
    one ``take(raw, axis=1)`` of a text's code points gives, contiguous, the main form followed
    by the homophone form — what the lexicon's one scan reads (``LexiconCheck.scan``,
    ``find_in``; 6.5 MB, once per table). A dropped character is ``FUSED_DROP`` ×3 in both
    rows and an expanded one ``FUSED_EXPAND`` ×3, so a short text needs no separate gather of
    kept flags: its gathered bytes say what was dropped (deleted with one ``translate``) and
    whether anything expanded (then it takes the general path)."""
    got = _FUSED.get(id(tables))
    if got is None or got[0] is not tables:
        from fenghuo.checks.matcher import _B3

        t = np.ascontiguousarray(_fused_bytes(tables)).view(_B3).reshape(2, -1)
        t.flags.writeable = False
        got = _FUSED[id(tables)] = (tables, t)
    return got[1]


_FUSED4: dict[int, tuple[object, np.ndarray]] = {}


def fused4(tables) -> np.ndarray:
    """``fused_table`` with each entry padded to four bytes by a ``FUSED_DROP`` byte (a dropped
    character is four of them), as uint32: numpy's ``take`` copies 1-, 2-, 4- and 8-byte items
    with a loop of its own but 3-byte ones with one ``memmove`` each, so gathering 4-byte
    entries and deleting the pads with the ``translate`` that deletes dropped characters anyway
    is ~0.3 µs less per 50-character message than gathering the 3-byte ones (what
    ``LexiconCheck.scan`` and ``find_in`` gather; 8.9 MB, once per table)."""
    got = _FUSED4.get(id(tables))
    if got is None or got[0] is not tables:
        b = _fused_bytes(tables)
        t = np.zeros((2, b.shape[1], 4), np.uint8)  # the pad byte is FUSED_DROP (0)
        t[:, :, :3] = b
        t = t.view(np.uint32).reshape(2, -1)
        t.flags.writeable = False
        got = _FUSED4[id(tables)] = (tables, t)
    return got[1]


def _fused_bytes(tables) -> np.ndarray:
    """``fused_table``'s bytes as a (2, code points, 3) uint8 array (see there); ~0.2 s to build,
    kept in the disk cache (``derived_cache``) under the tables' and readings' keys."""
    from fenghuo.checks import derived_cache as dc
    from fenghuo.checks import matcher

    if not tables.key:  # tables not from ``build_tables`` (a test's own): nothing to key on
        return _fuse(tables)
    key = dc.make_key(tables.key, readings().key, dc.source_digest(__file__), dc.source_digest(matcher.__file__))
    return dc.load_or_build("fused", key, lambda: {"bytes": _fuse(tables)})["bytes"]


def _fuse(tables) -> np.ndarray:
    from fenghuo.checks.matcher import homophone_form, pack3

    n = tables.single.size
    b = np.empty((2, n, 3), np.uint8)
    b[0] = np.frombuffer(pack3(tables.single).tobytes(), np.uint8).reshape(n, 3)
    b[1] = np.frombuffer(homophone_form(pack3(composed(tables))).tobytes(), np.uint8).reshape(n, 3)
    b[:, tables.single == DROP_CODE] = FUSED_DROP[0]
    b[:, tables.single == EXPAND_CODE] = FUSED_EXPAND[0]
    return b


def _compose(tables) -> np.ndarray:
    """The normaliser's table followed by the homophone map, per original code point: the
    homophone codes of a text in one gather (plus dropping separators) instead of decoding
    the normalised codes and gathering again — measured about half the cost per message."""
    single = tables.single
    out = single.copy()
    keep = single < SPECIAL
    out[keep] = readings().canon.take(decode_quad(single[keep]))
    return out


def canonical_many(words: list[str]) -> list[str]:
    """``canonical`` of many words in one pass (words hold no newline: they are split on it)."""
    if not words:
        return []
    out = canonical("\n".join(words)).split("\n")
    return out if len(out) == len(words) else [canonical(w) for w in words]


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


def extend(words: list[str], layers_of: dict[int, tuple[str, ...]], normalise) -> tuple[list[tuple[str, int, str]], dict[str, tuple[int, ...]]]:
    """Pinyin and split variants of ``words[i]`` for each ``i`` in ``layers_of`` (with the
    layers that word gets), as ``(variant, i, layer)``, skipping variants that are already
    words; and the syllable lengths of each pinyin variant (how the text may space it)."""
    from fenghuo.checks.lexicon_file import normalise_many

    raw: list[tuple[str, int, str]] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for i, layers in layers_of.items():
        w = words[i]
        if "pinyin" in layers:
            for v, shape in pinyin_variants(w):
                raw.append((v, i, "pinyin"))
                shapes.setdefault(v, shape)
        if "split" in layers:
            raw += [(v, i, "split") for v in split_variants(w)]
    # Split parts (车仑) normalise like text (車 -> 车); all variants in one pass.
    keys = normalise_many([v for v, _, _ in raw], normalise)
    taken = set(words)
    out: list[tuple[str, int, str]] = []
    for k, (_, i, kind) in zip(keys, raw):
        if k and k not in taken:
            taken.add(k)
            out.append((k, i, kind))
    return out, {k: shapes[k] for k, _, kind in out if kind == "pinyin" and k in shapes}


class Homophones:
    """The homophone layer: a matcher over the canonical forms of the block words. Its hits are
    reported as pattern ids ``base + k`` of the lexicon's compiled state, where the lexicon
    keeps, for each ``k``, the listed word's categories under the rule ``…~homophone``."""

    def __init__(self, owners: list[int], engine, base: int, fused: bool = False) -> None:
        self.owners = owners  # k -> index of the listed word
        self.engine = engine
        self.base = base
        self.packed = hasattr(engine, "scan_packed")  # hyperscan: scans the 3-byte form directly
        # ``fused``: the patterns live in the lexicon's main database (ids ``base + k``, in the
        # homophone form), which ``LexiconCheck.find_in`` scans once for both layers.
        self.fused = fused

    @staticmethod
    def plan(words: list[str], blockers: list[int]) -> tuple[list[int], list[str]]:
        """(owners, canonical forms): one pattern per distinct canonical form of a blocker."""
        seen: dict[str, int] = {}
        for i, c in zip(blockers, canonical_many([words[i] for i in blockers])):
            seen.setdefault(c, i)
        return list(seen.values()), list(seen)

    @staticmethod
    def patterns(canon: list[str]) -> list[bytes] | None:
        """The canonical forms as patterns of the main database (``matcher.homophone_form``),
        or None when one holds a character outside the Basic Multilingual Plane (never, for
        Chinese block words; such a layer keeps a matcher of its own)."""
        from fenghuo.checks.matcher import _B3, WIDTH, encode_patterns, homophone_form

        if any(ord(c) > 0xFFFF for w in canon for c in w):
            return None
        enc = encode_patterns(canon)
        if not enc:
            return []
        joined = homophone_form(np.frombuffer(b"".join(enc), _B3)).tobytes()
        out, pos = [], 0
        for p in enc:
            out.append(joined[pos : pos + len(p)])
            pos += len(p)
        assert all(len(p) % WIDTH == 0 for p in out)
        return out

    @classmethod
    def build(cls, words: list[str], blockers: list[int], engine_name: str, cache_dir, base: int) -> Homophones | None:
        from fenghuo.checks.matcher import make_engine

        owners, canon = cls.plan(words, blockers)
        if not canon:
            return None
        return cls(owners, make_engine(canon, engine_name, cache_dir), base)

    def find(self, text: str, n, tables) -> list[int]:
        """Flat ``[pattern id, end, …]`` in the lexicon's ids (normalised positions)."""
        if not n.codes.size:
            return []
        if self.fused:  # the main database, homophone form; ids are the lexicon's already
            if n.shift is None and n.raw is not None:
                src = n.raw if n.kept is None else n.raw[n.kept]
                return self.engine.scan_packed(fused_table(tables)[1].take(src))
            from fenghuo.checks.matcher import homophone_form, pack3

            return self.engine.scan_packed(homophone_form(pack3(canonical_codes(n.codes))))
        if n.shift is None and n.raw is not None and self.packed:
            # Nothing expanded (nearly every message): gather the packed form directly from
            # the normaliser's own array of code points (only the kept ones when some were
            # dropped). Per 50-character COLD cut this layer measured 5.7 -> ~2 µs CPU
            # (tests/checks/test_homophone_fast.py pins it to the general path).
            src = n.raw if n.kept is None else n.raw[n.kept]
            raw = self.engine.scan_packed(composed3(tables).take(src))
        else:
            if n.shift is None:  # nothing expanded: one gather of the original code points
                orig = n.raw if n.raw is not None else np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                c = composed(tables).take(orig)
                codes = c if n.steps is None else c[c < SPECIAL]
            else:  # ①-style expansions: from the normalised codes
                codes = canonical_codes(n.codes)
            raw = self.engine.scan_raw(codes)
        if raw:
            base = self.base
            raw[0::2] = [base + k for k in raw[0::2]]
        return raw
