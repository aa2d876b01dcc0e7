"""The folded per-code-point table normalisation applies (split from ``normalize.py``, which
keeps applying it: ``Normaliser`` and ``Normalised``).

Every rule (NFKC, lower case, traditional → simplified, separators dropped; the rules are in
``normalize.py``'s docstring) is folded once per process into ``Tables.single``:
``code point -> normalised code point in the matcher's quad form | DROP | EXPAND``, with the
few multi-character expansions in ``Tables.multi``. ``normalise_char`` is the reference
definition for one character that the table is built from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

DROP = np.uint32(0xFFFFFFFF)
EXPAND = np.uint32(0xFFFFFFFE)  # marks a code point with a multi-character expansion
SPECIAL = EXPAND  # mapped >= SPECIAL: dropped or expanded
N_CODEPOINTS = 0x110000

# Kept as boundaries: removing these would glue unrelated clauses into a "word".
BOUNDARY_CHARS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85,!?;:，。！？；：、")
SEPARATOR_CATEGORIES = frozenset({"Zs", "Cf", "Mn", "Me", "Cc", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sk", "So"})
# Astral ranges worth a per-code-point look (styled letters, enclosed forms, compatibility
# ideographs, tags, variation selectors); the rest of the astral planes map to themselves.
ASTRAL_RANGES = ((0x1D400, 0x1D800), (0x1F100, 0x1F300), (0x1F300, 0x1FB00), (0x2F800, 0x2FA20), (0xE0000, 0xE0080), (0xE0100, 0xE01F0))


def _load_t2s() -> dict[str, str]:
    table: dict[str, str] = {}
    text = resources.files("fenghuo.checks").joinpath("data/t2s_chars.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            table[trad] = simp
    return table


def is_separator(ch: str) -> bool:
    """True if ``ch`` is dropped before matching (see module docstring)."""
    if ch in BOUNDARY_CHARS:
        return False
    return unicodedata.category(ch) in SEPARATOR_CATEGORIES


def encode_quad(cps: np.ndarray) -> np.ndarray:
    """Code points → the matcher's NUL-free fixed-width 4-byte form (see ``matcher``).

    The table stores normalised characters already in this form, so the matcher only drops
    the constant low byte (``matcher.pack3``) before scanning. The low byte is always 0x80, so
    no value equals the DROP/EXPAND markers, and all values lie below them.
    """
    cps = np.asarray(cps, dtype=np.uint32)
    # Little-endian bytes: 0x80, 0x80|cp>>14, 0x80|(cp>>7)&0x7f, 0x80|cp&0x7f. The most
    # varied byte comes last in each character, since hyperscan's literal matcher keys on the
    # final bytes of a pattern (measured: about 10 % faster than the constant byte last).
    spread = ((cps >> 14) << 8) | ((cps & 0x3F80) << 9) | ((cps & 0x7F) << 24)
    return np.bitwise_or(spread, 0x80808080, dtype=np.uint32)


def decode_quad(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.uint32)
    return (((q >> 8) & 0x7F) << 14) | (((q >> 16) & 0x7F) << 7) | ((q >> 24) & 0x7F)


@dataclass(frozen=True, slots=True)
class Tables:
    """The per-code-point table and the few code points that expand to several characters."""

    single: np.ndarray  # uint32[N_CODEPOINTS]: mapped code point (quad form), DROP or EXPAND
    multi: dict[int, str]  # code point -> its normalised expansion (len >= 2)
    # What the tables are derived from (``derived_cache.make_key``): tables derived from these
    # in turn (the lexicon's fused table) are cached under it.
    key: str = ""


@lru_cache(maxsize=4)
def build_tables(t2s: bool = True, fold_case: bool = True, drop_separators: bool = True) -> Tables:
    """Fold all rules into one table (~0.2 s; from the disk cache, ``derived_cache``, ~5 ms)."""
    from fenghuo.checks import derived_cache as dc

    t2s_file = resources.files("fenghuo.checks").joinpath("data/t2s_chars.txt")
    # NFKC and the character categories come from Python's Unicode database: its version is an input.
    key = dc.make_key(dc.source_digest(__file__), dc.source_digest(str(t2s_file)), unicodedata.unidata_version,
                      t2s, fold_case, drop_separators)

    def build() -> dict[str, np.ndarray]:
        t = _fold(t2s, fold_case, drop_separators)
        keys = sorted(t.multi)
        return {"single": t.single, "multi_keys": np.array(keys, dtype=np.uint32),
                "multi_values": dc.strings_to_array([t.multi[k] for k in keys])}

    a = dc.load_or_build("normalise", key, build)
    multi = dict(zip(a["multi_keys"].tolist(), a["multi_values"].tolist()))
    return Tables(a["single"], multi, key)


def _fold(t2s: bool, fold_case: bool, drop_separators: bool) -> Tables:
    conv = _load_t2s() if t2s else {}
    single = np.arange(N_CODEPOINTS, dtype=np.uint32)
    multi: dict[int, str] = {}
    points = [cp for cp in range(0x10000) if not 0xD800 <= cp < 0xE000]
    points += [cp for lo, hi in ASTRAL_RANGES for cp in range(lo, hi)]
    points += [ord(c) for c in conv if ord(c) > 0xFFFF]
    for cp in points:
        ch = chr(cp)
        s = normalise_char(ch, conv, fold_case, drop_separators)
        if s == ch:
            continue
        if s == "":
            single[cp] = DROP
        elif len(s) == 1:
            single[cp] = ord(s)
        else:
            multi[cp] = s
            single[cp] = EXPAND
    keep = single < SPECIAL
    single[keep] = encode_quad(single[keep])
    return Tables(single, multi)


def normalise_char(ch: str, conv: dict[str, str], fold_case: bool, drop_separators: bool) -> str:
    """The reference definition of the rules for one character; the table is built from it."""
    s = unicodedata.normalize("NFKC", ch)
    if fold_case:
        s = s.lower()
    if conv:
        s = "".join(conv.get(c, c) for c in s)
    if drop_separators:
        s = "".join(c for c in s if not is_separator(c))
    return s


_FLAGS: dict[int, tuple[Tables, np.ndarray]] = {}


def kept_flags(tables: Tables) -> np.ndarray:
    """uint8 per code point: 1 when it normalises to one character, 0 when it is dropped, 2 when
    it expands. One gather and a bytes search tell a short text's case (all kept, some dropped,
    an expansion) for less than the comparison and ``nonzero`` of ``normalise_codes``.
    Cached per table (there are one or two per process)."""
    got = _FLAGS.get(id(tables))
    if got is None or got[0] is not tables:
        single = tables.single
        out = (single < SPECIAL).astype(np.uint8)
        out[single == EXPAND] = 2
        out.flags.writeable = False
        got = _FLAGS[id(tables)] = (tables, out)
    return got[1]
