"""When a knowledge rule is due: the conditions behind the rules check's two-stage prefilter.

A rule's regexes run only when the message holds what every match needs. ``rules_regex``
reduces each regex alternative ("branch") to *factors* (``rules_factors`` adds the unions an
alternation's alternatives share): literal sets of which every match holds one string each — 「你这种人就是社会的垃圾」 needs one of 你/你们/楼主… (the "you" part) *and* one
of 垃圾/废物/脑残… (the insult). Waking the rule on the insult alone (the earlier prefilter: one
factor per pattern) made it due on most toxic comments, where 垃圾 is common; 你 is commoner
still, so waking on it would be worse. So a rule's condition is a set of *clauses*, each a
conjunction of factors found near each other:

- a branch of an "any" pattern: all its factors, every one within the branch's longest match
  (normalised characters) of the key factor's occurrence;
- a word list (the alternatives that are plain words): one factor, the words themselves;
- an "all" rule: per choice of one alternative in each pattern (up to ``MAX_COMBINATIONS``
  choices), the chosen alternatives' factors, all within ``within`` characters; with more
  choices, one clause whose factors are the patterns' literal sets.

The *key* factor of a clause is its rarest: the one whose literals are expected least often in
ordinary text, estimated from jieba's dictionary (word counts of a general corpus; a word it
lacks by its characters' counts; ASCII letters common, emoji rare). 你, 加, 群, 男人 are common,
垃圾, 一群狗, 🍠 rare. The key literals form the first-stage database scanned on every message.
A clause with other factors is *pending* when its key occurs; then its other factors'
literals (a small database per clause) are scanned only in the stretch of text where they
could be, near each key occurrence, and the rule is due when they all occur close enough. The
estimate only decides what is scanned first: a poor one costs time, never a finding. Every step only drops rules with no possible match, so the
findings are the same as evaluating every rule (engine ``re``); tests check that on the
examples, the written sets and COLD cuts.

Distances: normalisation only drops characters (except rare expansions such as ``ﬁ``), so two
literal occurrences within N original characters are within N normalised ones; an "all"
rule's ``within`` (original characters) is checked that way only when nothing expanded.
Original-text factors (UTF-8 bytes, one report per literal) are checked for presence only.

Per message (``due_rules``): most 1 KB messages hold a key literal of ~3 rules whose other
factors do not occur nearby, so that path is kept short — per rule one pass over the hits for
its stretch (the widest of its clauses' distances around its key occurrences, prepared by
``due_entry`` once per set of key literals) and one scan of it; the clauses are tested one by
one only when the scan found something. The stretch is a superset of each clause's, and each
clause's own test is exact, so the rules due are the same (tests compare with
``RulesCheck.todo_general``).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path

import numpy as np

from fenghuo.checks.matcher import pack3
from fenghuo.checks.rules_factors import clause_factors
from fenghuo.checks.rules_literals import HIT_BITS, HIT_MASK, _on_norm_literal, message_codes
from fenghuo.checks.rules_regex import _minimal, max_width

MAX_COMBINATIONS = 32  # an "all" rule's clauses: one per choice of its patterns' alternatives, up to this many
MAX_DISTANCE = 500  # wider clauses (unbounded repeats) are checked for presence only
MULTI_TODO_MAX = 4096  # entries of the compiled state's ``multi_todo``


@dataclass(frozen=True, slots=True)
class Factor:
    side: str  # "norm" or "orig"
    caseless: bool  # an orig factor of a (?i) pattern: matched caselessly
    words: tuple[str, ...]  # every match holds one of these


@dataclass(frozen=True, slots=True)
class Clause:
    rule: int  # index of the rule in the check's list
    key: Factor
    confirm: tuple[Factor, ...]  # the other factors, looked for only when the key occurs
    width: int | None  # normalised characters holding an occurrence of every factor; None: anywhere
    strict: bool  # ``width`` counts normalised characters (a branch): holds even when characters expanded


@lru_cache(maxsize=1)
def _frequencies() -> tuple[dict[str, float], dict[str, float]]:
    """Word and character shares of ordinary Chinese text, from jieba's dictionary (word counts
    of a general corpus; a dependency of the package already). Empty without it: then the
    keys are chosen by length alone. Folding the 350,000 lines costs ~0.9 s, so the shares are
    kept in the disk cache (``derived_cache``) under the dictionary's and this module's digests."""
    from fenghuo.checks import derived_cache as dc

    try:
        import jieba

        path = Path(jieba.__file__).parent / "dict.txt"
        key = dc.make_key(dc.source_digest(str(path)), dc.source_digest(__file__))
    except (ImportError, OSError):  # pragma: no cover - jieba is a dependency
        return {}, {}
    a = dc.load_or_build("wordshares", key, lambda: _fold_dictionary(path))
    return (dict(zip(a["words"].tolist(), a["word_shares"].tolist())),
            dict(zip(a["chars"].tolist(), a["char_shares"].tolist())))


def _fold_dictionary(path: Path) -> dict:
    from fenghuo.checks.derived_cache import strings_to_array

    words: dict[str, float] = {}
    chars: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        w, c = parts[0].lower(), int(parts[1])
        words[w] = words.get(w, 0) + c
        for ch in set(w):
            chars[ch] = chars.get(ch, 0) + c
    total = sum(words.values()) or 1
    return {"words": strings_to_array(list(words)), "word_shares": np.array([c / total for c in words.values()]),
            "chars": strings_to_array(list(chars)), "char_shares": np.array([c / total for c in chars.values()])}


@lru_cache(maxsize=65536)  # the same literals recur across clauses and rules (~70,000 calls a compile)
def _share(w: str) -> float:
    """How often ``w`` is expected in ordinary text (a rough share per word): its own count when
    the dictionary has it, else the product of its characters' shares. ASCII letters and digits
    are common in chat (``r``, ``v``, ``8``); emoji and symbols rare."""
    words, chars = _frequencies()
    got = None if w.isascii() else words.get(w)  # the dictionary's few ASCII words are news counts
    p = 1.0
    for ch in w:
        if ch.isascii():
            p *= 0.04 if ch.isalnum() else 1e-3
        else:
            p *= min(chars.get(ch, 1e-6), 1.0)
    return p if got is None else max(got, p)


@lru_cache(maxsize=16384)
def _cost(f: Factor) -> tuple[float, int]:
    # The expected reports of the factor's literals: the rarest factor is the key. An
    # original-text factor counts 4 times: confirming its clause cannot use positions (and its
    # ASCII literals, domain endings, are common in English text).
    share = sum(_share(w) for w in f.words)
    return (share if f.side == "norm" else 4 * share, len(f.words))


def _clause(rule: int, factors: list[Factor], width: int | None, strict: bool) -> Clause:
    factors = list(dict.fromkeys(factors))
    key = min(factors, key=_cost)
    rest = tuple(f for f in factors if f is not key)
    positional = width is not None and width <= MAX_DISTANCE and all(f.side == "norm" for f in factors)
    return Clause(rule, key, rest, width if positional and rest else None, strict)


def clauses_of(index: int, every: bool, within: int, atoms, plans) -> list[Clause] | None:
    """The clauses of one rule (``atoms``: its pattern ids, ``plans``: ``rules_match.PatternPlan``
    per id), or None when it has none (a pattern with an alternative without literals): then
    the rule is due on every message."""
    if every:
        # Every pattern must match, each by one of its alternatives, which holds all that
        # alternative's factors: a clause per choice of alternatives (when the choices are few),
        # else one clause whose factors are the patterns' literals. A pattern without a literal
        # for every alternative adds nothing (and is not waited for).
        complete = [plans[a] for a in atoms if plans[a].complete]
        if not complete:
            return None
        choices = [_alternatives(p) for p in complete]
        combos = 1
        for ch in choices:
            combos *= len(ch)
        if combos > MAX_COMBINATIONS:
            factors = [Factor(p.side, p.caseless, _minimal(w for w, _ in p.literals)) for p in complete]
            return [_clause(index, factors, within, False)]
        return [_clause(index, [f for alt in pick for f in alt], within, False) for pick in product(*choices)]
    out: list[Clause] = []
    for a in atoms:
        p = plans[a]
        if not p.complete:
            return None
        if p.words:
            out.append(_clause(index, [Factor(p.side, p.caseless, _minimal(p.words))], None, True))
        for rx, _w, _lits in p.branches:
            out.append(_clause(index, [Factor(p.side, p.caseless, f) for f in clause_factors(rx.pattern)], max_width(rx.pattern), True))
    return out


def _alternatives(p) -> list[list[Factor]]:
    """A complete pattern's alternatives, each as the factors a match by it holds."""
    alts = [[Factor(p.side, p.caseless, _minimal(p.words))]] if p.words else []
    for rx, _w, _lits in p.branches:
        # A complete plan's regex alternatives have literals, so factors.
        alts.append([Factor(p.side, p.caseless, f) for f in clause_factors(rx.pattern)])
    return alts


def due_rules(compiled, hits: list[int], text: str, n) -> tuple:
    """The rules due for a message with first-stage ``hits`` (``LiteralIndex.prefilter``) of
    the rules check's compiled state, in file order (findings of equal span keep the order
    ``RulesCheck.todo_general`` gives them)."""
    c = compiled
    if not hits:
        return tuple(c.rules[k] for k in c.always_rules)
    if len(hits) == 1:
        todo, ks, pending = c.single_todo[hits[0] & HIT_MASK]
    else:
        key = frozenset([h & HIT_MASK for h in hits])
        entry = c.multi_todo.get(key)
        if entry is None and len(key) == 1:  # one literal, several occurrences
            entry = c.single_todo[hits[0] & HIT_MASK]
        elif entry is None:
            entry = due_entry(c.rules, c.clauses, c.index, key, c.always_rules, c.recs)
            if len(c.multi_todo) >= MULTI_TODO_MAX:
                c.multi_todo.clear()
            c.multi_todo[key] = entry
        todo, ks, pending = entry
    if not pending:
        return todo
    # Clauses whose key occurs wait for their other factors: one scan of the rule's other
    # factors' literals — only of the stretch where they could be, within the widest of its
    # clauses' distances of its key occurrences — and, when any occurs (rarely), the test of
    # each clause: its factors near one of its own key occurrences. This runs for ~3 rules
    # on most 1 KB messages, so the rule's stretch comes from one pass over the hits with
    # what ``due_entry`` prepared, and the clause test only when the scan found something.
    index = c.index
    kl = index.key_lengths
    near_ok = n.shift is None
    size = n.codes.size
    due = packed = codes = first = keys_by = scratches = None
    for r, width, strict, mine, recs, d in pending:
        if width is not None and (strict or near_ok):
            # Another factor of a match holding the key [s, e) lies in [e - w, s + w).
            e0, s1 = size, 0
            for h in hits:
                i = h & HIT_MASK
                if i in mine:
                    e = h >> HIT_BITS
                    if e < e0:
                        e0 = e
                    if e - kl[i] > s1:
                        s1 = e - kl[i]
            lo, hi = e0 - width, s1 + width
            if lo < 0:
                lo = 0
            if hi > size:
                hi = size
            if lo >= hi:
                continue
        else:
            lo, hi = 0, size
        if d >= 0 and size:
            # ``index.confirm`` inlined for a rule with one database, on the normalised side
            # (nearly all): the call and its loops were most of a pending rule's ~4 µs. Its
            # literals in C on the codes when the kernel is built (``rules_literals.code_set``):
            # a hyperscan scan of its own database started cold, ~2.5-3.5 µs in the pipeline.
            cs = index.confirm_sets[d]
            if cs is not None:
                if codes is None:
                    codes = message_codes(n)
                found = cs.find(codes, lo, hi, lo)
            else:
                if packed is None:
                    packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
                if scratches is None:
                    scratches = index.confirm_scratches()
                scratch = scratches[d]
                if scratch is None:
                    scratch = scratches[d] = index.new_scratch(d)
                found = []
                index.confirm_dbs[d].scan(packed[3 * lo : 3 * hi], _on_norm_literal, 0, found, scratch)
            if not found:
                continue  # none of the rule's other factors occurs: the common answer
            occ = index.confirm_hits(r, d, found, lo)
        else:
            if packed is None:
                packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
            occ = index.confirm(r, text, n, lo, hi, packed)
            if occ is None:
                continue
        if first is None:
            first, keys_by = {}, {}
            for h in hits:
                first.setdefault(h & HIT_MASK, []).append(h >> HIT_BITS)
        for g, w, strict1, keyset, idxs in recs:
            for j in idxs:
                if not occ[j]:
                    break
            else:
                if w is not None and (strict1 or near_ok):
                    keys = keys_by.get(g)
                    if keys is None:
                        keys = keys_by[g] = [(e - kl[i], e) for i, ends in first.items() if i in keyset for e in ends]
                    if not near_all(keys, occ, idxs, w):
                        continue
                if due is None:
                    due = set(ks)
                due.add(r)
                break
    if due is None:
        return todo
    return tuple(c.rules[r] for r in sorted(due))


def near(keys: list[tuple[int, int]], others: list[list[tuple[int, int]]], width: int) -> bool:
    """Whether some key occurrence has an occurrence of every other factor with both inside
    ``width`` characters (each pair: a necessary condition for one match holding them all)."""
    return any(all(any(max(e, e2) - min(s, s2) <= width for s2, e2 in o) for o in others) for s, e in keys)


def close(keys: list[tuple[int, int]], occ: list[tuple[int, int]], starts: list[int], width: int) -> frozenset:
    """Indices of the key occurrences [s, e) with an occurrence [s2, e2) of ``occ`` (sorted, with
    their ``starts``) inside ``width`` characters: s2 >= e - width and e2 <= s + width (``near``
    for one factor, by bisection)."""
    out = set()
    n = len(starts)
    for k, (s, e) in enumerate(keys):
        lim = s + width
        a = bisect_left(starts, e - width)
        while a < n and starts[a] < lim:
            if occ[a][1] <= lim:
                out.add(k)
                break
            a += 1
    return frozenset(out)


def near_all(keys: list[tuple[int, int]], occ: list[list[tuple[int, int]]], idxs: tuple[int, ...], width: int) -> bool:
    """Whether some key occurrence [s, e) has, for every factor ``j`` of ``idxs``, an occurrence
    [s2, e2) in ``occ[j]`` with s2 >= e - width and e2 <= s + width: ``near`` per factor, for
    one key at a time. A plain loop while the pairs are few (a 1 KB message: a key or two and a
    few occurrences); by bisection (``close``) beyond that, where long texts would make the
    loop quadratic."""
    if len(keys) * sum(len(occ[j]) for j in idxs) > 64:
        ok = None
        for j in idxs:
            o = sorted(occ[j])
            got = close(keys, o, [x for x, _ in o], width)
            ok = got if ok is None else ok & got
            if not ok:
                return False
        return True
    for s, e in keys:
        lo, hi = e - width, s + width
        for j in idxs:
            for s2, e2 in occ[j]:
                if s2 >= lo and e2 <= hi:
                    break
            else:
                break
        else:
            return True
    return False


def clause_recs(clauses, index) -> tuple:
    """Per clause, what ``due_rules`` reads of it, as one tuple: (key group, width or None, strict,
    key literal ids, other factors' indices in its rule's confirm list)."""
    return tuple((index.key_group[k], cl.width, cl.strict, index.key_sets[k], index.confirm_idx[k]) for k, cl in enumerate(clauses))


def due_entry(rules, clauses, index, lits, always_rules, recs) -> tuple:
    """For a set of first-stage literal ids: (rules due outright, their indices, the rules whose
    clauses wait for other factors as (rule, widest distance or None, all strict, their key
    literal ids, their ``clause_recs``, their only confirmation database on the normalised side
    or -1), the rules in file order."""
    ks = set(always_rules)
    pending = set()
    for i in lits:
        for k in index.keyed[i]:
            cl = clauses[k]
            if cl.confirm:
                pending.add(k)
            else:
                ks.add(cl.rule)
    by_rule: dict[int, list] = {}
    for k in sorted(pending):
        if clauses[k].rule not in ks:
            by_rule.setdefault(clauses[k].rule, []).append(recs[k])
    out = []
    for r, v in by_rule.items():
        # The rule's stretch: its clauses' widest distance around the union of their keys
        # (None when one has no distance: the whole text), strict when every clause is.
        width = None if any(rec[1] is None for rec in v) else max(rec[1] for rec in v)
        out.append((r, width, all(rec[2] for rec in v), frozenset().union(*(rec[3] for rec in v)), tuple(v), index.confirm_norm.get(r, -1)))
    return tuple(rules[k] for k in sorted(ks)), frozenset(ks), tuple(out)
