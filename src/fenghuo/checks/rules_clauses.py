"""What a knowledge rule waits for: its clauses, the conditions behind the rules check's two-stage
prefilter, and the key factor each clause is woken by.

A rule's regexes run only when the message holds what every match needs. ``rules_regex``
reduces each regex alternative ("branch") to *factors* (``clause_factors``, with the unions an
alternation's alternatives share): literal sets of which every match holds one string each —
「你这种人就是社会的垃圾」 needs one of 你/你们/楼主… (the "you" part) *and* one of
垃圾/废物/脑残… (the insult). Waking the rule on the insult alone (the earlier prefilter: one
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
estimate only decides what is scanned first: a poor one costs time, never a finding. Every
step only drops rules with no possible match, so the findings are the same as evaluating every
rule (engine ``re``); tests check that on the examples, the written sets and COLD cuts.

Distances: normalisation only drops characters (except rare expansions such as ``ﬁ``), so two
literal occurrences within N original characters are within N normalised ones; an "all"
rule's ``within`` (original characters) is checked that way only when nothing expanded.
Original-text factors (UTF-8 bytes, one report per literal) are checked for presence only.

Which rules are due for a given message, with these clauses, is ``rules_due.py``'s (this module
was its load-time half until session 22).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path

import numpy as np

from fenghuo.checks.rules_pattern import max_width
from fenghuo.checks.rules_regex import clause_factors, minimal_literals

MAX_COMBINATIONS = 32  # an "all" rule's clauses: one per choice of its patterns' alternatives, up to this many
MAX_DISTANCE = 500  # wider clauses (unbounded repeats) are checked for presence only


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
            factors = [Factor(p.side, p.caseless, minimal_literals(w for w, _ in p.literals)) for p in complete]
            return [_clause(index, factors, within, False)]
        return [_clause(index, [f for alt in pick for f in alt], within, False) for pick in product(*choices)]
    out: list[Clause] = []
    for a in atoms:
        p = plans[a]
        if not p.complete:
            return None
        if p.words:
            out.append(_clause(index, [Factor(p.side, p.caseless, minimal_literals(p.words))], None, True))
        for rx, _w, _lits in p.branches:
            out.append(_clause(index, [Factor(p.side, p.caseless, f) for f in clause_factors(rx.pattern)], max_width(rx.pattern), True))
    return out


def _alternatives(p) -> list[list[Factor]]:
    """A complete pattern's alternatives, each as the factors a match by it holds."""
    alts = [[Factor(p.side, p.caseless, minimal_literals(p.words))]] if p.words else []
    for rx, _w, _lits in p.branches:
        # A complete plan's regex alternatives have literals, so factors.
        alts.append([Factor(p.side, p.caseless, f) for f in clause_factors(rx.pattern)])
    return alts
