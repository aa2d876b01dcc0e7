"""What a rule pattern needs before it can match: the literals behind the rules check's prefilter.

Running ~90 rule regexes over every message is too slow for the guard's budget — measured on a
1 KB harmless message: hyperscan with start-of-match over all patterns ~65 µs, Python ``re``
one alternation ~560 µs. But almost every pattern requires one of a few literal strings
(``微信|威信|vx`` requires one of those three words; ``\\d+r一篇`` requires ``r一篇``, or
rather the best factor found), and literal matching is what hyperscan does fastest. So, once,
at load time, each pattern is parsed with Python's own parser (``re._parser``, stable across
3.11–3.13) and reduced to a *required-literal set*: every match of the pattern contains at least
one of these strings. Per message a literal scan says which patterns can match; a rule is
evaluated (with the exact regexes, by ``re``) only when all the patterns it needs can.

Soundness is what matters: a set that missed a way to match would make the check miss what
``re`` finds. Only constructs whose strings are known exactly contribute (literals, small
classes, alternations, groups, fixed repeats); anything else (``.``, ``\\d``, big classes,
optional parts) contributes nothing, and a pattern with no required literal at all is always
evaluated. Tests compare the prefiltered check with the plain ``re`` one on every example.

Exact matches, for the few rules whose literals were all there, come from hyperscan too
(Python's ``re`` needs 200–450 µs per 1 KB for one big alternation). The normalised text is
never decoded into a string for this (~10 µs per 1 KB): each normalised-text pattern is
rewritten into a byte regex over the matcher's three-bytes-per-character form (``to_pack3``):
a character ``cp`` is ``0x80 | cp >> 14``, ``0x80 | (cp >> 7) & 0x7f``, ``0x80 | cp & 0x7f``
(base 128, high bit set), a class is an alternation of byte-range sequences as in UTF-8 regex
engines, and a match ending at byte ``e`` ends at character ``e // 3``. Every unit of the
rewritten pattern is a whole character, so a match ending on a character boundary also starts
on one; others are dropped. Only what the byte form can express is accepted (literals, ``.``,
classes, ``\\d``, ``|``, groups, repeats, ``^``/``$``); ``\\b``, ``\\w``, ``\\s`` and
lookarounds are refused — use an ``orig:`` pattern for those.

This module also checks that a normalised-text pattern's literals are in normalised form: a
literal the normaliser would change (``V`` → ``v``, ``電`` → ``电``, ``：`` → ``:``) or remove
(``/``, ``.``, an emoji) can never match, so it is refused with what to write instead.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - the parser's opcode names
import re._parser as P  # noqa: N812

MAX_CP = 0x10FFFF
_BASE = 128
MAX_SET = 1024  # larger exact sets are not expanded (cross products grow fast)
MAX_CLASS = 16  # a class of more characters is not worth listing


class PatternError(ValueError):
    """A pattern that can never match normalised text; the message says why."""


def _walk_literals(sub, out: list[int]) -> None:
    for op, av in sub:
        if op in (C.LITERAL, C.NOT_LITERAL):
            out.append(av)
        elif op is C.IN:
            out += [x for o, x in av if o is C.LITERAL]
        elif op is C.BRANCH:
            for alt in av[1]:
                _walk_literals(alt, out)
        elif op is C.SUBPATTERN:
            _walk_literals(av[3], out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            _walk_literals(av[2], out)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            _walk_literals(av[1], out)
        elif op is C.ATOMIC_GROUP:
            _walk_literals(av, out)


def check_normalised(pattern: str, normalise_text) -> None:
    """Refuse a normalised-text pattern with a literal the normaliser changes or drops."""
    cps: list[int] = []
    _walk_literals(P.parse(pattern, 0), cps)
    for cp in dict.fromkeys(cps):
        ch = chr(cp)
        if ch in "\n":
            continue
        got = normalise_text(ch)
        if got == ch:
            continue
        if got == "":
            raise PatternError(f"{ch!r} is removed by normalisation and never occurs in normalised text; match it with an orig: pattern / 该字符在规范化后被删除，请用 orig: 模式")
        raise PatternError(f"{ch!r} normalises to {got!r}; write {got!r} in a normalised-text pattern / 请写规范化后的形式")


def _score(s: set[str]) -> tuple[int, int]:
    return (min(len(x) for x in s), -len(s))


def _best(*sets):
    good = [s for s in sets if s and "" not in s]
    return max(good, key=_score) if good else None


def _product(a: set[str], b: set[str]) -> set[str] | None:
    if len(a) * len(b) > MAX_SET:
        return None
    return {x + y for x in a for y in b}


def _seq(sub) -> tuple[set[str] | None, set[str] | None]:
    """(exact, required) for a sequence: ``exact`` is every string it can match (when few and
    known), ``required`` a set every match contains one of (the best found)."""
    cands: list[set[str]] = []
    cur: set[str] | None = {""}
    whole = True  # is `cur` still the exact set of everything so far?
    for op, av in sub:
        ex, rq = _node(op, av)
        if ex is not None:
            nxt = _product(cur, ex) if cur is not None else None
            if nxt is None:  # too many: keep what we had as a factor and start again
                if cur:
                    cands.append(cur)
                cur, whole = set(ex), False
            else:
                cur = nxt
        else:
            if cur:
                cands.append(cur)
            if rq:
                cands.append(rq)
            cur, whole = {""}, False
    if cur:
        cands.append(cur)
    return (cur if whole else None), _best(*cands)


def _node(op, av) -> tuple[set[str] | None, set[str] | None]:
    if op is C.LITERAL:
        return {chr(av)}, {chr(av)}
    if op is C.AT:
        return {""}, None  # zero width
    if op is C.SUBPATTERN:
        return _seq(av[3])
    if op is C.BRANCH:
        infos = [_seq(alt) for alt in av[1]]
        exact = None
        if all(ex is not None for ex, _ in infos):
            exact = set().union(*(ex for ex, _ in infos))
            if len(exact) > MAX_SET:
                exact = None
        per_alt = [_best(ex, rq) for ex, rq in infos]
        req = None if any(s is None for s in per_alt) else set().union(*per_alt)
        return exact, req
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        lo, hi, p = av
        ex, rq = _seq(p)
        if lo == hi == 1:
            return ex, rq
        if lo == 0:
            return ({""} | ex if hi == 1 and ex is not None and len(ex) < MAX_SET else None), None
        return None, _best(ex, rq)
    if op is C.IN:
        chars: set[str] = set()
        for o, x in av:
            if o is C.LITERAL:
                chars.add(chr(x))
            elif o is C.RANGE and x[1] - x[0] < MAX_CLASS:
                chars.update(chr(c) for c in range(x[0], x[1] + 1))
            else:
                return None, None  # negated, a category, a big range
        return (chars, chars) if 0 < len(chars) <= MAX_CLASS else (None, None)
    return None, None  # ., \d, lookarounds, back-references: no literal known


def required_literals(pattern: str) -> list[str] | None:
    """Strings of which every match of ``pattern`` contains at least one (sorted), or None when
    no such set is known (the pattern must then always be evaluated)."""
    _, req = _seq(P.parse(pattern, 0))
    return sorted(req) if req else None


def max_width(pattern: str) -> int:
    """The longest match ``pattern`` can have, in characters (very large when unbounded)."""
    return P.parse(pattern, 0).getwidth()[1]


def case_insensitive(pattern: str) -> bool:
    """Whether any part of ``pattern`` ignores case (then its literals must be matched caselessly)."""
    parsed = P.parse(pattern, 0)
    if parsed.state.flags & re.IGNORECASE:
        return True

    def walk(sub) -> bool:
        for op, av in sub:
            if op is C.SUBPATTERN and (av[1] & re.IGNORECASE or walk(av[3])):
                return True
            if op is C.BRANCH and any(walk(a) for a in av[1]):
                return True
            if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and walk(av[2]):
                return True
        return False

    return walk(parsed)


# -- normalised-text patterns as byte regexes over the 3-byte form ----------------------------


def _cp_bytes(cp: int) -> str:
    return "\\x%02x\\x%02x\\x%02x" % (0x80 | cp >> 14, 0x80 | (cp >> 7) & 0x7F, 0x80 | cp & 0x7F)


def _digit_ranges(lo: int, hi: int, ndig: int) -> list[list[tuple[int, int]]]:
    """Byte-digit range sequences covering code points ``lo..hi`` in ``ndig`` base-128 digits."""
    if ndig == 1:
        return [[(lo, hi)]]
    unit = _BASE ** (ndig - 1)
    lh, ll = divmod(lo, unit)
    hh, hl = divmod(hi, unit)
    if lh == hh:
        return [[(lh, lh)] + r for r in _digit_ranges(ll, hl, ndig - 1)]
    out: list[list[tuple[int, int]]] = []
    first, last = lh, hh
    if ll != 0:
        out += [[(lh, lh)] + r for r in _digit_ranges(ll, unit - 1, ndig - 1)]
        first = lh + 1
    tail: list[list[tuple[int, int]]] = []
    if hl != unit - 1:
        tail = [[(hh, hh)] + r for r in _digit_ranges(0, hl, ndig - 1)]
        last = hh - 1
    if first <= last:
        out.append([(first, last)] + [(0, _BASE - 1)] * (ndig - 1))
    return out + tail


def _byte_range(lo: int, hi: int) -> str:
    a, b = 0x80 | lo, 0x80 | hi
    return "\\x%02x" % a if a == b else "[\\x%02x-\\x%02x]" % (a, b)


def class_regex(ranges: list[tuple[int, int]], negate: bool = False) -> str:
    """A set of code-point ranges (or its complement) as a byte regex over the 3-byte form."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if negate:
        comp, nxt = [], 0
        for lo, hi in merged:
            if lo > nxt:
                comp.append([nxt, lo - 1])
            nxt = hi + 1
        if nxt <= MAX_CP:
            comp.append([nxt, MAX_CP])
        merged = comp
    if not merged:
        raise PatternError("a character class that can match nothing / 字符类为空")
    # Sequences sharing their first two byte ranges differ only in the last byte: one byte
    # class each (``[a-z0-9]`` is one sequence, not two) — fewer alternatives compile faster.
    by_prefix: dict[tuple, list[tuple[int, int]]] = {}
    for lo, hi in merged:
        for seq in _digit_ranges(lo, hi, 3):
            by_prefix.setdefault((seq[0], seq[1]), []).append(seq[2])
    alts = []
    for (r0, r1), lasts in by_prefix.items():
        tail = _byte_range(*lasts[0]) if len(lasts) == 1 else "[" + "".join(_byte_range(a, b).strip("[]") for a, b in lasts) + "]"
        alts.append(_byte_range(*r0) + _byte_range(*r1) + tail)
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


_DIGITS = [(ord("0"), ord("9"))]
_NEWLINE = [(10, 10)]


def _class_ranges(items) -> tuple[list[tuple[int, int]], bool]:
    ranges: list[tuple[int, int]] = []
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            ranges.append((av, av))
        elif op is C.RANGE:
            ranges.append(av)
        elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
            ranges += _DIGITS
        elif op is C.CATEGORY and av is C.CATEGORY_NOT_DIGIT:
            ranges += [(0, ord("0") - 1), (ord("9") + 1, MAX_CP)]
        else:
            raise PatternError(f"{str(av).lower()} cannot be used in a normalised-text pattern (use explicit classes like [0-9a-z], or an orig: pattern) / 规范化文本模式不支持该写法")
    return ranges, negate


def _emit(sub) -> str:
    out = []
    for op, av in sub:
        if op is C.LITERAL:
            out.append(_cp_bytes(av))
        elif op is C.NOT_LITERAL:
            out.append(class_regex([(av, av)], negate=True))
        elif op is C.ANY:
            out.append(class_regex(_NEWLINE, negate=True))  # like re: . does not match \n
        elif op is C.IN:
            ranges, negate = _class_ranges(av)
            out.append(class_regex(ranges, negate))
        elif op is C.BRANCH:
            out.append("(?:" + "|".join(_emit(alt) for alt in av[1]) + ")")
        elif op is C.SUBPATTERN:
            if (av[1] | av[2]) & ~re.IGNORECASE:
                raise PatternError("inline flags other than (?i) are not supported / 仅支持 (?i) 内联标志")
            out.append("(?:" + _emit(av[3]) + ")")
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, p = av
            out.append("(?:" + _emit(p) + ")" + ("{%d,}" % lo if hi is C.MAXREPEAT else "{%d,%d}" % (lo, hi)))
        elif op is C.AT and av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
            out.append("^")
        elif op is C.AT and av in (C.AT_END, C.AT_END_STRING):
            out.append("$")
        elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
            out.append(class_regex(_DIGITS))
        elif op is C.CATEGORY and av is C.CATEGORY_NOT_DIGIT:
            out.append(class_regex(_DIGITS, negate=True))
        else:
            raise PatternError(
                f"{str(op).lower()} cannot be used in a normalised-text pattern (literals, ., classes, \\d, |, "
                f"groups, repeats, ^, $ only); use an orig: pattern / 规范化文本模式不支持该写法"
            )
    return "".join(out)


def to_pack3(pattern: str) -> bytes:
    """A normalised-text ``pattern`` (Python syntax) as a hyperscan byte regex over the 3-byte form."""
    try:
        parsed = P.parse(pattern, 0)
    except re.error as exc:
        raise PatternError(f"invalid regex: {exc} / 正则表达式无效") from None
    if parsed.state.flags & ~(re.IGNORECASE | re.UNICODE):
        raise PatternError("inline flags other than (?i) are not supported / 仅支持 (?i) 内联标志")
    return _emit(parsed).encode("ascii")
