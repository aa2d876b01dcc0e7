"""A rule pattern's form, as ``re``'s parser sees it: the questions the rules check asks of a
pattern besides its literals (those are ``rules_regex.py``'s).

- ``parse_pattern``: the parse itself, cached: every question below and every literal set of
  ``rules_regex`` reads one pattern's parse, and parsing again was a third of compiling.
- ``split_branches``: the top-level alternatives, so a word-list alternative is found as
  literals and only the others run as regexes (``rules_match.plan_pattern``).
- ``max_width``, ``lookahead_width``: how far from one of its literals a match can reach — the
  search window around an occurrence (``rules_match.py``) and a clause's distance
  (``rules_clauses.py``).
- ``case_insensitive``: whether a pattern's literals must be matched caselessly.
- ``check_normalised``: a normalised-text pattern's literals must be in normalised form: a
  literal the normaliser would change (``V`` → ``v``, ``電`` → ``电``, ``：`` → ``:``) or remove
  (``/``, ``.``, an emoji) can never match, so it is refused with what to write instead.

Split out of rules_regex.py (session 22) when it passed 420 lines: that module keeps one idea,
the literal sets every match holds.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - the parser's opcode names
import re._parser as P  # noqa: N812
from functools import lru_cache


@lru_cache(maxsize=2048)
def parse_pattern(pattern: str):
    """``re``'s parse of a pattern, shared by the several questions asked of one pattern while
    the rules compile (its literals, widths, leading strings, factors: each parsed it again;
    the parser was a third of compiling). Callers only read it."""
    return P.parse(pattern, 0)


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
    _walk_literals(parse_pattern(pattern), cps)
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


def max_width(pattern: str) -> int:
    """The longest match ``pattern`` can have, in characters (very large when unbounded)."""
    return parse_pattern(pattern).getwidth()[1]


def lookahead_width(pattern: str) -> int:
    """How far past a match's end ``re`` may look (the widest lookahead anywhere in ``pattern``):
    a search window must reach that far, or a lookahead such as ``[薇微](?=:?[a-z][a-z0-9]{4})``
    fails at the window's end where the whole text would let it match."""
    widest = 0

    def walk(sub) -> None:
        nonlocal widest
        for op, av in sub:
            if op in (C.ASSERT, C.ASSERT_NOT):
                if av[0] == 1:  # lookahead (-1: lookbehind, which re reads before the window's start)
                    widest = max(widest, av[1].getwidth()[1])
                walk(av[1])
            elif op is C.SUBPATTERN:
                walk(av[3])
            elif op is C.BRANCH:
                for alt in av[1]:
                    walk(alt)
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                walk(av[2])
            elif op is C.ATOMIC_GROUP:
                walk(av)

    walk(parse_pattern(pattern))
    return widest


def case_insensitive(pattern: str) -> bool:
    """Whether any part of ``pattern`` ignores case (then its literals must be matched caselessly)."""
    parsed = parse_pattern(pattern)
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


def _structure(pattern: str):
    """``(index, char, depth after it)`` of each character outside escapes and character
    classes — the one walk both ``split_branches`` and ``_one_group`` need."""
    depth, cls, i = 0, False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
            if pattern[i + 1 : i + 2] == "]":  # a ']' first in a class is a literal
                i += 1
        else:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            yield i, ch, depth
        i += 1


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")  # flags for the whole pattern, as `re` reads them at its start


def split_branches(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern`` as pattern strings; a branch that is one
    non-capturing group around an alternation is split further (defines are substituted as
    ``(?:…)``, so ``{{contact}}|{{lure}}`` yields every contact word and every lure word).
    A leading global flag group (``(?i)kys|kill yourself``) is repeated on every branch: each
    branch is compiled alone, and without it only the first would ignore case (session 23)."""
    flags = _GLOBAL_FLAGS.match(pattern)
    if flags:
        return [flags.group(0) + b for b in split_branches(pattern[flags.end():])]
    parts, start = [], 0
    for i, ch, depth in _structure(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    out: list[str] = []
    for p in parts:
        inner = p[3:-1] if p.startswith("(?:") and p.endswith(")") and _one_group(p) else None
        if inner is not None and len(split_branches(inner)) > 1:
            out += split_branches(inner)
        else:
            out.append(p)
    return out


def _one_group(p: str) -> bool:
    """Whether the group opened at ``p[0]`` closes at the very end."""
    return next((i == len(p) - 1 for i, ch, depth in _structure(p) if ch == ")" and depth == 0), False)
