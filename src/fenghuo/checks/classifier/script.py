"""Script share: how much of a text's letters are Han, the gate that keeps a model trained on one
script from judging text in another (``min_han_share`` / ``max_han_share`` in ``check.py``).
Counted on the normalised text, by the C kernel when it is built, else by a per-code-point
table gather or, when something expanded, on the codes themselves."""

from __future__ import annotations

import numpy as np

from fenghuo.checks.classifier import features
from fenghuo.checks.normalize import SPECIAL, Normalised, decode_quad

# A model trained on Chinese text has seen no English: the hashed n-grams of an English text
# fall into buckets Chinese n-grams trained, and the shipped model flagged 38 % of harmless
# English sentences (faker, 200), mostly as gambling. Such a model declares in its metadata
# the share of Han characters among a text's letters below which it does not judge
# (``min_han_share``; the shipped one: 0.25, which leaves 1 of 6,430 COLD dev rows and none of
# the other Chinese held-out sets unjudged). Those texts are left to the lexicon, the rules
# and, where one runs, the LLM guard. ``min_han_share`` in the config overrides it.
# The mirror image, ``max_han_share``: a model trained on English (the shipped
# ``classifier_en.npz``: 0.25) does not judge a text whose letters are more than that share Han.
# That gate is tested *before* scoring (one script count, ~1 µs a 1 KB message with the C
# kernel), so Chinese text pays nothing else for a second, English model in the pipeline.
_LETTER_RANGES = ((0x61, 0x7A), (0xC0, 0x2FF), (0x370, 0x52F))  # Latin (normalised lower case), Greek, Cyrillic
_HAN_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF))


def _code_counts(codes: np.ndarray) -> tuple[int, int]:
    """(Han, other letters: Latin, Greek, Cyrillic) of normalised codes, in numpy."""
    cps = decode_quad(codes)
    han = sum(int(np.count_nonzero((cps >= lo) & (cps <= hi))) for lo, hi in _HAN_RANGES)
    return han, sum(int(np.count_nonzero((cps >= lo) & (cps <= hi))) for lo, hi in _LETTER_RANGES)


def han_share(codes: np.ndarray) -> float:
    """Han characters among the letters (Han, Latin, Greek, Cyrillic) of normalised codes."""
    han, other = _code_counts(codes)
    return han / (han + other) if han + other else 0.0


_SCRIPT: dict[int, tuple] = {}


def _script_table(tables) -> np.ndarray:
    """Per *original* code point, the script class of what it normalises to (1 Han, 2 another
    letter, 0 anything else, dropped or expanded included); cached per normalisation table."""
    got = _SCRIPT.get(id(tables))
    if got is None or got[0] is not tables:
        single = tables.single
        keep = single < SPECIAL
        cps = np.zeros(single.size, np.uint32)
        cps[keep] = decode_quad(single[keep])
        out = np.zeros(single.size, np.uint8)
        for cls, ranges in ((2, _LETTER_RANGES), (1, _HAN_RANGES)):
            for lo, hi in ranges:
                out[keep & (cps >= lo) & (cps <= hi)] = cls
        got = _SCRIPT[id(tables)] = (tables, out)
    return got[1]


def han_share_of(n: Normalised, tables) -> float:
    """``han_share(n.codes)`` from the original code points when nothing expanded: one gather
    and two byte counts instead of ~20 numpy calls (measured ~5 -> ~0.6 µs per 50-character
    message; the same counts, so the same float; tests/checks/test_short_message_speed.py)."""
    if n.shift is not None or n.raw is None:
        return han_share(n.codes)
    b = _script_table(tables).take(n.raw).tobytes()  # dropped characters are class 0
    han, other = b.count(1), b.count(2)
    return han / (han + other) if han + other else 0.0


def han_share_counted(n: Normalised, tables) -> float:
    """``han_share_of`` from ``_script_counts`` (by the C kernel when it is built: the same
    counts on ``n.codes`` in one pass, ~1 µs a flagged 1 KB message instead of ~4-10 for the
    gather and two counts); 0.0 for a text without letters."""
    han, other = _script_counts(n, tables)
    return han / (han + other) if han + other else 0.0


def _script_counts(n: Normalised, tables) -> tuple[int, int]:
    """(Han, other letters) of the normalised text: the counts ``han_share_of`` divides."""
    native = features.NATIVE
    if native is not None:
        try:
            return native.script_counts(n.codes)
        except (TypeError, ValueError, BufferError):
            pass
    if n.shift is not None or n.raw is None:
        return _code_counts(n.codes)
    b = _script_table(tables).take(n.raw).tobytes()
    return b.count(1), b.count(2)


# (Normalised, Han share or None) of the last message a gate measured. Two classifier checks in
# one pipeline get the same Normalised per message, so the second reads the first's share:
# with the English model listed first (default.yaml), a mostly-English message skips the
# Chinese model's scoring (~20 µs a 1 KB English message) at no cost to a Chinese one. One
# tuple, assigned whole: threads see one message's pair or another's, and ``is`` tells them apart
# (the tuple keeps its Normalised alive, so no later message can have its identity).
LAST_SHARE: tuple = (None, None)


def share_or_none(n: Normalised, tables) -> float | None:
    """Han characters among the letters, or None for a text with no letters (digits, emoji,
    kana, hangul...): no model judges that by script (``max_han_share``)."""
    global LAST_SHARE
    last = LAST_SHARE
    if last[0] is n:
        return last[1]
    han, other = _script_counts(n, tables)
    share = han / (han + other) if han + other else None
    LAST_SHARE = (n, share)
    return share


def over_max_share(n: Normalised, tables, max_han: float) -> bool:
    """The ``max_han_share`` gate: True (not judged) for a text more than ``max_han`` Han, or
    with no letters at all (an English model has nothing to read there; the ``min_han_share``
    gate leaves such text unjudged too)."""
    share = share_or_none(n, tables)
    return share is None or share > max_han
