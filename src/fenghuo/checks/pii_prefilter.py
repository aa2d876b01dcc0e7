"""Where in a text the PII pattern can match: short windows to run the exact pattern in.

The exact pattern (``pii._PATTERN``) has lookbehinds and an alternation of eight shapes; its
first-character guard admits every ASCII letter and every plate province character (新, 云,
川, 京 … are common words), so on Chinese text CPython's engine tries the whole alternation at
many positions where nothing starts. But every match holds an *anchor* near its start:

==========================================  ==========================  ====================
match type                                  anchor                      starts ≥ anchor − …
==========================================  ==========================  ====================
cn_id, bank_card, ipv4                      its first digit (``\\d``)   0
mobile (``+86 …``)                          its first digit             1
passport (``EA1234567``)                    its first digit             2 (``BACK_DIGIT``)
ipv6                                        its first ``:``             4 (one hex group)
email                                       its ``@``                   64 (the local part)
plate                                       the letter after the        1 (the province)
                                            province character
==========================================  ==========================  ====================

and, without an ``@`` or ``:``, is at least ``MIN_PLAIN`` (7) characters long, so a digit
anchor needs 4 more match characters after it and a plate letter 5. ``_ANCHOR`` finds such
anchors in one search; it starts with a single character class, so sre skips along the text
with one table lookup per character and tests the lookarounds only at candidates (digits,
``@``, ``:``, capital letters). Of 1 KB cuts of COLD dev 3 % get a window; for the rest
that search is the whole check.

A window runs from the anchor's earliest possible match start to the next *breaker*: a
character no part of the pattern can consume and no lookahead rejects (``_BREAK``: all but
digits, ASCII letters, ``._%+-@:``, space, the plate separators ``·・``, province and plate
suffix characters; ``test_pii_prefilter`` derives the set from the pattern). The pattern
searched with ``endpos`` at a breaker behaves as on the whole text for every start before it
(the breaker fails every character class, and every lookahead is negative, so "end of text"
and "a breaker" answer alike), and searched from ``pos`` its lookbehinds still see the
characters before ``pos``. Each window is searched to its end, so the windows' matches, in
order, are exactly ``_PATTERN.finditer(text, start)``: ``tests/checks/test_pii_prefilter.py``
compares them with the whole-text scan on random mixes and COLD dev.

Measured while choosing (thread CPU, interleaved, 1 KB cuts of COLD dev, load 6–9): the BMP's
decimal digits spelt out as a class compile to one 256-way table lookup per character, ~1.9×
faster than ``\\d`` (a Unicode database call per character); a ``+`` after the class, or a
second top-level alternative, makes sre give up its first-character scan (1.6× to 8× slower);
the 290 non-BMP digits spelt out are 25 range tests per character (10× slower), so the whole
non-BMP plane is a candidate and a non-digit there (an emoji) yields a window where nothing
matches. Hyperscan as the skip test (UTF-8 digits, ``@``, ``:``, province + letter, digit + 4
content characters) cost 6.9 µs per cut with the encode against 2.5 µs for this search: the
multi-byte digit classes defeat its acceleration on CJK text.
"""

from __future__ import annotations

import re
import string

import numpy as np

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SUFFIXES = "挂学警港澳"
PLATE_LETTERS = "A-HJ-NP-Z"


def _bmp_digits() -> str:
    """Every BMP character ``\\d`` matches (Unicode category Nd, as in the running Python).
    Built from all 65,536 code points in ~1 ms (numpy → UTF-32 → one ``re.sub``); surrogates
    are replaced by a space, which is no digit."""
    codes = np.arange(0x10000, dtype="<u4")
    codes[0xD800:0xE000] = 0x20
    return re.sub(r"\D+", "", codes.tobytes().decode("utf-32-le"))


def _class_body(chars: str) -> str:
    """``chars`` (sorted) as a character-class body of ranges: the digits come in runs of ten,
    and 37 ranges parse in a fraction of the time 370 single characters take (import time)."""
    out, i = [], 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and ord(chars[j + 1]) == ord(chars[j]) + 1:
            j += 1
        out.append(re.escape(chars[i]) if i == j else f"{re.escape(chars[i])}-{re.escape(chars[j])}")
        i = j + 1
    return "".join(out)


_DIGIT_CHARS = _bmp_digits()
_DIGITS = _class_body(_DIGIT_CHARS)
_NON_BMP = "\U00010000-\U0010ffff"
# Characters the pattern may consume or a lookahead may reject; all else is a breaker.
_CONTENT = f"{_DIGITS}0-9A-Za-z._%+\\-@: ·・{PLATE_PROVINCES}{PLATE_SUFFIXES}{_NON_BMP}"
_BREAK = re.compile(f"[^{_CONTENT}]")
# The same characters as a set, for looking one or two characters back from an anchor (a
# non-BMP character counts as content, as in ``_BREAK``).
_CONTENT_SET = frozenset(_DIGIT_CHARS + string.ascii_letters + "._%+-@: ·・" + PLATE_PROVINCES + PLATE_SUFFIXES)

BACK_EMAIL = 64  # an e-mail's local part: [A-Za-z0-9][A-Za-z0-9._%+-]{0,63} before the '@'
BACK_IPV6 = 4  # one hex group [0-9A-Fa-f]{0,4} before the first ':'
BACK_DIGIT = 2  # a passport's two letters (EA1234567); mobile's '+' is one
# The shortest match without an '@' or ':' (ipv4 1.1.1.1, plate 京A12345; the others are
# longer). ``test_pii_prefilter`` derives it from the patterns.
MIN_PLAIN = 7

# Anchors closer than this to the previous window end the windowing: the rest of the text is
# one window. A window costs about as much as the pattern on ~50 characters of Chinese text
# (thread CPU, 1 KB cuts of PII-dense text: windows every ~15 characters measured 2× the
# whole-text scan before this).
DENSE_GAP = 48

# An anchor: an '@' with an e-mail character before it and a letter or digit after it; a ':'
# followed by up to four hex digits and another ':' (an IPv6 address's first colon); a digit
# followed by at least MIN_PLAIN - BACK_DIGIT - 1 characters a match may hold (a match anchored
# by its first digit starts at most BACK_DIGIT before it and is at least MIN_PLAIN long); a
# plate letter after a province character followed by at least MIN_PLAIN - 2. ("说:" and "@某人"
# are common in Chinese text: with bare '@' and ':' as anchors 8.2 % of COLD's 1 KB cuts got a
# window, with these 2.7 %.)
# The pattern starts with one character class, so sre skips to the next candidate character
# with a table lookup per character and tests the lookarounds only there. A BMP digit is one of
# the spelt-out ``_DIGITS``: the ``\d`` category costs a Unicode database call per character,
# ~2× the class's table lookup. Non-BMP digits (290, in 25 ranges) would be 25 range tests per
# character, 10× slower, so the whole non-BMP plane is a candidate: a non-digit there (an
# emoji) just gives a window where nothing matches.
_AFTER_DIGIT = MIN_PLAIN - BACK_DIGIT - 1
_AFTER_LETTER = MIN_PLAIN - 2
_ANCHOR = re.compile(
    f"[{_DIGITS}@:{PLATE_LETTERS}{_NON_BMP}]"
    f"(?:(?<=[A-Za-z0-9._%+\\-]@)(?=[A-Za-z0-9])"
    f"|(?<=:)(?=[0-9A-Fa-f]{{0,{BACK_IPV6}}}:)"
    f"|(?<=[{_DIGITS}{_NON_BMP}])(?=[{_CONTENT}]{{{_AFTER_DIGIT}}})"
    f"|(?<=[{PLATE_PROVINCES}][{PLATE_LETTERS}])(?=[{_CONTENT}]{{{_AFTER_LETTER}}}))"
)
# Whether a plain window (``windows``) can hold a match at all: every match has an '@' (e-mail),
# a ':' (IPv6), a '.' (IPv4), a province character (plate) or at least 7 decimal digits
# (``MIN_DIGITS``: passport ``EA1234567``; mobile 11, bank card 15, ID 17), ``\d`` being what
# the pattern counts as one (Unicode Nd). Windows such as ``12-3456`` (short numbers with separators,
# the guard benchmark's ``[3-1234]`` tags) then skip the pattern, which costs ~1 µs a position there
# (eight alternatives with lookbehinds): 7 µs for a 7-character window. Matched at the window's
# start only; possessive quantifiers keep it linear. ``test_pii_prefilter`` checks the shapes
# against the pattern's own minimum widths.
MIN_DIGITS = 7
_CAN_MATCH = re.compile(f"[^@:.{PLATE_PROVINCES}]*+[@:.{PLATE_PROVINCES}]|(?:\\D*+\\d){{{MIN_DIGITS}}}")
_LOCAL_SET = frozenset(string.ascii_letters + string.digits + "._%+-")
_HEX_SET = frozenset(string.hexdigits)

# ``None`` when no match is possible in ``text[start:]``: ``first_anchor(text, start)``.
first_anchor = _ANCHOR.search


def _back(text: str, i: int, floor: int, most: int, chars: frozenset) -> int:
    """The earliest start, at most ``most`` characters before ``i`` and not before ``floor``,
    from which ``text[start:i]`` is all ``chars``."""
    lo = i
    while lo > floor and i - lo < most and text[lo - 1] in chars:
        lo -= 1
    return lo


def windows(text: str, start: int = 0, first: re.Match | None = None) -> list[tuple[int, int]]:
    """``(pos, endpos)`` pairs, in order and disjoint, such that the matches of
    ``pii._PATTERN.finditer(text, pos, endpos)`` over all pairs are exactly those of
    ``pii._PATTERN.finditer(text, start)``. Empty when no match is possible. ``first``:
    ``first_anchor(text, start)`` when the caller already has it (one search fewer)."""
    out: list[tuple[int, int]] = []
    floor = start  # the end of the last window: nothing before it is searched again
    n = len(text)
    a = first if first is not None else _ANCHOR.search(text, start)
    while a is not None:
        i = a.start()
        if out and i - out[-1][1] < DENSE_GAP:
            # PII-dense text: one search from the previous window on is cheaper than a window
            # (four calls here, one finditer) every few characters.
            out[-1] = (out[-1][0], n)
            return out
        ch = text[i]
        if ch == "@":
            lo = _back(text, i, floor, BACK_EMAIL, _LOCAL_SET)  # the local part
        elif ch == ":":
            lo = _back(text, i, floor, BACK_IPV6, _HEX_SET)  # the first hex group
        elif "A" <= ch <= "Z":
            lo = i - 1  # the province character
        else:
            # A digit (or a non-BMP character that may be one): a match may start up to two
            # characters back, but not before a breaker (in Chinese text, usually the one before).
            lo = i
            while lo > floor and i - lo < BACK_DIGIT and (text[lo - 1] in _CONTENT_SET or text[lo - 1] > "\uffff"):
                lo -= 1
        # No match crosses a breaker, so the window ends at the next one. An e-mail or IPv6
        # address later in the same stretch may start before this anchor's match would: the
        # first '@' and ':' after it reach back (later ones cannot reach past these).
        b = _BREAK.search(text, i + 1)
        e = b.start() if b is not None else n
        plain = ch != "@" and ch != ":"
        if (j := text.find("@", i + 1, e)) >= 0:
            plain = False
            lo = min(lo, _back(text, j, floor, BACK_EMAIL, _LOCAL_SET))
        if (j := text.find(":", i + 1, e)) >= 0:
            plain = False
            lo = min(lo, _back(text, j, floor, BACK_IPV6, _HEX_SET))
        if lo < floor:
            lo = floor
        if not plain or (e - lo >= MIN_PLAIN and _CAN_MATCH.match(text, lo, e) is not None):
            out.append((lo, e))
        floor = e
        a = _ANCHOR.search(text, floor)
    return out
