"""What a rule pattern needs before it can match: the literals behind the rules check's prefilter.

Running ~90 rule regexes over every message is too slow for the guard's budget — measured on a
1 KB harmless message: hyperscan with start-of-match over all patterns ~65 µs, Python ``re``
200–450 µs for one big alternation. But almost every pattern requires one of a few literal strings
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

Where the literals occur also bounds where a match can be: within the pattern's longest match
(``rules_pattern.max_width``) of an occurrence, so ``re`` only needs to look there (``rules_match.py``).

More factors per rule clause (``clause_factors``; session 21's ``rules_factors.py``, merged
here in session 22: it walked this module's parse-tree analysis and needed its internals).
``required_factors`` lists literal sets of which every match of a regex holds one string each;
for an alternation inside a sequence it contributes one set, the union of each alternative's
*best* set. So ``{{group}}[^。]{0,6}?(?:(?:都是|就是|只会…)[^。]{0,8}?(?:小偷|垃圾…)
|没一个好东西|…)`` (abuse.group_stereotype) gave two factors — the group words and 小偷/垃圾/…
∪ 没一个好东西/… — and lost the 都是/就是/只会 part: the rule was due on 237 of 895 COLD 1 KB cuts
(a group word and 垃圾 within 33 characters) and matched on 8, each evaluation costing a pattern
scan, a decode and ``re`` tries (session 21: ~18 µs of the rules check's mean per cut).
Every alternation therefore also yields the unions by *rank*: for k = 0, 1, 2 the union over
its alternatives of each one's k-th best set (its last when it has fewer). Sound for any choice
of one set per alternative — a match of the alternation is a match of one alternative, which
holds a string of the set chosen for it — so the rule's clauses may wait for these factors too
(``rules_clauses.clauses_of``) and the findings stay those of ``re``: every step only drops
rules that cannot match (tests compare with ``RulesCheck.todo_general`` and engine ``re``).

The pattern's form — its parse, alternatives, widths, case and the check that a normalised-text
pattern's literals are in normalised form — is ``rules_pattern.py``'s.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - the parser's opcode names

from fenghuo.checks.rules_pattern import case_insensitive, parse_pattern

MAX_SET = 1024  # larger exact sets are not expanded (cross products grow fast)
MAX_CLASS = 16  # a class of more characters is not worth listing


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
    exact, cands = _seq_factors(sub)
    return exact, _best(*cands)


def _seq_factors(sub) -> tuple[set[str] | None, list[set[str]]]:
    """A sequence's exact set (as ``_seq``) and every literal set found along it of which each
    match contains one string: runs of exact parts multiplied out, and the parts' own required
    sets where a part is not exact."""
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
            ext = _run_into(op, av, cur)
            if ext is not None:
                cands.append(ext)  # implies `cur`: every match holds one of these instead
            elif cur:
                cands.append(cur)
            if rq:
                cands.append(rq)
            cur, whole = {""}, False
    if cur:
        cands.append(cur)
    return (cur if whole else None), cands


def _run_into(op, av, cur: set[str] | None) -> set[str] | None:
    """The exact run ``cur`` followed by what the next, inexact part surely opens with, when
    known: a repeat's first repetition (``一个\\d+块`` holds 一个0 … 一个9, far rarer than 一个),
    or a digit class (0-9 under ``re.ASCII``)."""
    if not cur or "" in cur:
        return None
    first = None
    if op in _REPEATS and av[0] >= 1 and len(av[2]) == 1:
        first = _lead_exact(*av[2][0])
    elif op is C.IN:
        first = _lead_exact(op, av)
    if not first or "" in first:
        return None
    return _product(cur, first)


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
        chars = _class_chars(av, digits=False)  # None: negated, a category, a big range
        return (chars, chars) if chars is not None and 0 < len(chars) <= MAX_CLASS else (None, None)
    return None, None  # ., \d, lookarounds, back-references: no literal known


def required_literals(pattern: str) -> list[str] | None:
    """Strings of which every match of ``pattern`` contains at least one (sorted), or None when
    no such set is known (the pattern must then always be evaluated)."""
    _, req = _seq(parse_pattern(pattern))
    return sorted(req) if req else None


def minimal_literals(strings) -> tuple[str, ...]:
    """The strings no other string of the set is part of (sorted): "every match contains one of
    these" holds for the smaller set too — a match holding 你这种 holds 你. A short string's
    parts are looked up in a set, not compared with every string kept (the sets run to
    thousands at load time, where the pairwise test was a fifth of compiling the rules)."""
    got: set[str] = set()
    for s in sorted(set(strings), key=lambda x: (len(x), x)):
        n = len(s)
        if n * (n + 1) // 2 < len(got):
            if any(s[i:j] in got for i in range(n) for j in range(i + 1, n + 1)):
                continue
        elif any(g in s for g in got):
            continue
        got.add(s)
    return tuple(sorted(got))


def required_factors(pattern: str) -> list[tuple[str, ...]] | None:
    """Every literal set of which each match of ``pattern`` contains one string (each minimal,
    ``minimal_literals``), best first (``required_literals``' choice is a superset of the first), or
    None when none is known. A match holds one string of *each*: the rules check wakes a rule
    on the rarest set and confirms the others (``rules_clauses.py``, ``rules_due.py``)."""
    _exact, cands = _seq_factors(parse_pattern(pattern))
    good = [s for s in cands if s and "" not in s]
    if not good:
        return None
    out = list(dict.fromkeys(minimal_literals(s) for s in sorted(good, key=_score, reverse=True)))
    return out


MAX_LEADS = 4096  # larger leading sets are not used (the windowed search serves)


def leading_literals(pattern: str) -> list[str] | None:
    """Strings of which every match of ``pattern`` *starts* with one (sorted; none a prefix of
    another), or None when no such set is known. ``rules_match.find_spans`` tries the regex only
    where one of them occurs (``re.match`` at that position) instead of searching a window
    position by position: a regex that opens with a long alternation of group words (「东北人
    |河南人|…|老师」) costs ``re`` every alternative at every position of the window, since its
    own first-character skip works only when each alternative opens with a plain character.
    Sound in the same way as ``required_literals``: anything not known exactly ends the prefix;
    ``\\d`` is 0-9, as the rules check compiles with ``re.ASCII``."""
    got = _lead(list(parse_pattern(pattern)))
    if not got:
        return None
    kept: set[str] = set()
    for w in sorted(got, key=len):
        if not any(w[:i] in kept for i in range(1, len(w))):
            kept.add(w)
    return sorted(kept)


_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)


def _lead(items: list) -> set[str] | None:
    """Leading strings of the sequence ``items`` (each non-empty), or None."""
    acc: set[str] | None = {""}
    for k, (op, av) in enumerate(items):
        if op in _ZERO_WIDTH:
            continue  # checked by re at the position; consumes nothing
        ex = _lead_exact(op, av)
        if ex is not None:
            nxt = _product(acc, ex)
            if nxt is None:
                break  # too many: what is known so far still starts every match
            acc = nxt
            continue
        # Not exact: the node's own leading strings, followed by the rest of the sequence.
        rest = items[k + 1 :]
        sub: set[str] | None = None
        if op is C.SUBPATTERN:
            sub = _lead(list(av[3]) + rest)
        elif op is C.BRANCH:
            subs = [_lead(list(alt) + rest) for alt in av[1]]
            if all(x is not None for x in subs):
                sub = set().union(*subs)
        elif op in _REPEATS and av[0] >= 1 and av[2].getwidth()[0] > 0:
            sub = _lead(list(av[2]))  # the first repetition opens every match
        if sub is not None and len(sub) <= MAX_LEADS:
            got = _product(acc, sub) if len(acc) * len(sub) <= MAX_LEADS else None
            if got is not None:
                acc = got
        break
    if not acc or "" in acc or len(acc) > MAX_LEADS:
        return None
    return acc


def _class_chars(av, digits: bool) -> set[str] | None:
    """The characters a character class ``[…]`` matches, or None where they are not few and
    known (negated, a category, a big range). ``digits``: ``\\d`` counts as 0-9 (``re.ASCII``)."""
    chars: set[str] = set()
    for o, x in av:
        if o is C.LITERAL:
            chars.add(chr(x))
        elif o is C.RANGE and x[1] - x[0] < MAX_CLASS:
            chars.update(chr(c) for c in range(x[0], x[1] + 1))
        elif digits and o is C.CATEGORY and x is C.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:
            return None
    return chars


def _lead_exact(op, av) -> set[str] | None:
    """Every string the node can match, when few and known: ``_node``'s exact set, plus digit
    classes (0-9 under ``re.ASCII``) and fixed repeats of them (``\\d{2}``)."""
    if op is C.IN:
        chars = _class_chars(av, digits=True)
        return chars if chars is not None and 0 < len(chars) <= 2 * MAX_CLASS else None  # digits and numerals: [\d一二三…十]
    if op in _REPEATS and av[0] == av[1] and 1 <= av[0] <= 4 and len(av[2]) == 1:
        one = _lead_exact(*av[2][0])
        if one is None:
            return None
        out: set[str] | None = {""}
        for _ in range(av[0]):
            out = _product(out, one) if out is not None else None
        return out
    return _node(op, av)[0]


def exact_strings(pattern: str) -> list[str] | None:
    """Every string ``pattern`` can match, when they are few and known (a word list), else None."""
    parsed = parse_pattern(pattern)
    if parsed.state.flags & re.IGNORECASE or case_insensitive(pattern):
        return None
    ex, _ = _seq(parsed)
    return sorted(ex) if ex and "" not in ex else None


# The alternations' unions by rank (``clause_factors``; see the module docstring).
RANKS = 3  # unions per alternation: of the alternatives' best, second and third sets
MAX_UNION = 4096  # strings in one union (a bigger one is left out: it would be common anyway)


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
    extra = [minimal_literals(s) for s in sorted(_nested(parse_pattern(pattern)), key=_score, reverse=True)]
    out = list(dict.fromkeys(base + extra))
    return out or None
