"""More factors per rule clause: the literal sets an alternation's alternatives share.

``rules_regex.required_factors`` lists literal sets of which every match of a regex holds one
string each; for an alternation inside a sequence it contributes one set, the union of each
alternative's *best* set. So ``{{group}}[^。]{0,6}?(?:(?:都是|就是|只会…)[^。]{0,8}?(?:小偷|垃圾…)
|没一个好东西|…)`` (abuse.group_stereotype) gave two factors — the group words and 小偷/垃圾/…
∪ 没一个好东西/… — and lost the 都是/就是/只会 part: the rule was due on 237 of 895 COLD 1 KB cuts
(a group word and 垃圾 within 33 characters) and matched on 8, each evaluation costing a pattern
scan, a decode and ``re`` tries (session 21: ~18 µs of the rules check's mean per cut).

Here every alternation also yields the unions by *rank*: for k = 0, 1, 2 the union over its
alternatives of each one's k-th best set (its last when it has fewer). Sound for any choice of
one set per alternative — a match of the alternation is a match of one alternative, which
holds a string of the set chosen for it — so the rule's clauses may wait for these factors too
(``rules_due.clauses_of``) and the findings stay those of ``re``: every step only drops rules
that cannot match (tests compare with ``RulesCheck.todo_general`` and engine ``re``).
"""

from __future__ import annotations

import re._constants as C  # noqa: N812 - the parser's opcode names

from fenghuo.checks.rules_regex import _minimal, _parse, _score, _seq_factors, required_factors

RANKS = 3  # unions per alternation: of the alternatives' best, second and third sets
MAX_UNION = 4096  # strings in one union (a bigger one is left out: it would be common anyway)
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)


def _good(sets) -> list[set[str]]:
    return [s for s in sets if s and "" not in s]


def _factor_sets(sub) -> list[set[str]]:
    """Literal sets of which every match of the sequence ``sub`` holds one string each: those
    ``_seq_factors`` finds and the alternations' unions (``_unions``), best first."""
    _exact, cands = _seq_factors(sub)
    got = _good(cands) + _nested(sub)
    return sorted(got, key=_score, reverse=True)


def _nested(sub) -> list[set[str]]:
    """The unions of the alternations every match of ``sub`` passes through (in groups and
    repeats of at least one; not lookarounds, whose text is outside the match)."""
    out: list[set[str]] = []
    for op, av in sub:
        if op is C.BRANCH:
            out += _unions(av[1])
        elif op is C.SUBPATTERN:
            out += _nested(av[3])
        elif op in _REPEATS and av[0] >= 1:
            out += _nested(av[2])
    return out


def _unions(alts) -> list[set[str]]:
    per_alt = [_factor_sets(alt) for alt in alts]
    if not per_alt or any(not sets for sets in per_alt):
        return []  # an alternative without a known literal: nothing every match holds
    out = []
    for k in range(min(RANKS, max(len(sets) for sets in per_alt))):
        u: set[str] = set()
        for sets in per_alt:
            u |= sets[min(k, len(sets) - 1)]
        if len(u) <= MAX_UNION:
            out.append(u)
    return out


def clause_factors(pattern: str) -> list[tuple[str, ...]] | None:
    """``required_factors(pattern)`` followed by the alternations' unions not already among
    them (each minimal), or None when there is no factor at all."""
    base = required_factors(pattern) or []
    extra = [_minimal(s) for s in sorted(_nested(_parse(pattern)), key=_score, reverse=True)]
    out = list(dict.fromkeys(base + extra))
    return out or None
