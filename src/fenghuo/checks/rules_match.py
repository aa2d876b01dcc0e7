"""Finding rule patterns fast: hyperscan literal scans first, Python's ``re`` only near them.

Running every rule regex over every message is too slow for the guard (measured on a 1 KB
message: Python ``re`` 200–450 µs for one big alternation; hyperscan over all patterns in
start-of-match mode ~65 µs). Every pattern is reduced at load time to literals every match
must contain (``rules_regex.required_literals``; ``plan_pattern``). Then, per message:

1. ``rules_literals.LiteralIndex.prefilter``: one literal scan per side (normalised text in the matcher's
   three-bytes-per-character form, original text as UTF-8; one report per literal on the
   UTF-8 side, ``HS_FLAG_SINGLEMATCH``) for the rules' key literals (``rules_due.py``), and
   ``LiteralIndex.confirm``, a small per-rule scan of the other factors' literals near a key
   occurrence, say which rules *can* match. On harmless text that is rare, and the check ends
   here.
2. ``find_spans`` for the patterns of candidate rules: a small literal database per pattern
   gives where its literals occur; a match contains one, so it lies within the pattern's
   longest match (``rules_pattern.max_width``, capped at ``MAX_WINDOW``) of an occurrence, and ``re`` runs
   only in those short windows. Where an alternative's matches all *start* with one of a
   known set of strings (``rules_regex.leading_literals``: the group words opening 「东北人…
   都是骗子」) and its width is exact, ``re.match`` is tried only at their occurrences near a
   literal instead (``_anchored``): ``re`` cannot skip ahead in a window when the pattern
   opens with a long alternation, and tried every alternative at every position (the four
   group-discrimination rules' windows were most of their cost). The spans are exactly
   ``re``'s, as with engine ``re``.

Not hyperscan's regex start-of-match mode: besides its cost, hyperscan 5.4 (python-hyperscan
0.9.1) crashed the process (SIGSEGV) scanning a 1 KB message in that mode with the pattern
``\\d+\\s*(?:💰|💴|💵|🧧)|(?:💰|💴|💵)\\s*\\d+``. Literal mode is hyperscan's simplest path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fenghuo.checks.rules_message import Message
from fenghuo.checks.rules_pattern import case_insensitive, lookahead_width, max_width, split_branches
from fenghuo.checks.rules_regex import exact_strings, leading_literals, required_literals

MAX_WINDOW = 64  # characters around an occurrence for patterns of unbounded width ( \d+ )


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching spans joined."""
    if not spans:
        return spans
    spans.sort()
    out = [spans[0]]
    for s, e in spans[1:]:
        ls, le = out[-1]
        if s <= le:
            if e > le:
                out[-1] = (ls, e)
        else:
            out.append((s, e))
    return out


@dataclass(frozen=True)
class PatternPlan:
    """How one pattern is found. Its top-level alternatives (``rules_regex.split_branches``)
    that are plain word lists are found as literals — their occurrences *are* the matches; the
    other alternatives are regexes, run by ``re`` near their own literals (or over the whole
    text / region when they have none). A pattern's matches are the union of its alternatives'
    matches, with either engine."""

    side: str  # "norm" or "orig"
    words: tuple[str, ...]  # the word-list alternatives' strings
    branches: tuple  # (compiled regex, width, literals or None) per regex alternative
    caseless: bool  # an orig pattern with (?i): its literals are matched caselessly
    # (literal, kind): kind -1 for a word, else the regex alternative it belongs to
    # (alternatives without literals are not in it). What the due clauses build on.
    literals: tuple
    complete: bool  # every alternative has literals: the pattern can wait for the prefilter
    # Per regex alternative, its leading strings (``rules_regex.leading_literals``) when the
    # regex is tried only where they occur, else None (searched in windows around ``literals``).
    leads: tuple = ()
    # (literal, kind) for the pattern's own hyperscan database (``LiteralIndex.occurrences``):
    # words -1; a windowed alternative k its literals as k; an anchored one its leads as k and
    # its literals as ``-2 - k`` (a lead occurrence far from every one of these starts no match).
    found_by: tuple = ()
    filtered: tuple = ()  # per regex alternative: anchored and its literals (``-2 - k``) in ``found_by``


def make_plan(side: str, words: list[str], branches: list, caseless: bool, leads: list | None = None) -> PatternPlan:
    lits = [(w, -1) for w in words]
    found_by = list(lits)
    leads = leads or [None] * len(branches)
    filtered = []
    complete = True
    for k, (_, _, branch_lits) in enumerate(branches):
        if branch_lits is None:
            complete = False
        else:
            lits += [(w, k) for w in branch_lits]
        filtered.append(leads[k] is not None and branch_lits is not None and set(branch_lits) != set(leads[k]))
        if leads[k] is None:
            found_by += [(w, k) for w in branch_lits or ()]
        else:
            found_by += [(w, k) for w in leads[k]]
            if filtered[k]:
                found_by += [(w, -2 - k) for w in branch_lits]
    return PatternPlan(side, tuple(words), tuple(branches), caseless, tuple(lits), complete, tuple(leads), tuple(found_by), tuple(filtered))


def plan_pattern(side: str, pattern: str) -> PatternPlan:
    """How to find ``pattern`` (a rule pattern on ``side``, "norm" or "orig"): split into word lists
    (found as literals) and regex alternatives, each with its window width, literals and leading
    strings (``rules_regex``, ``rules_pattern``)."""
    re.compile(pattern, re.ASCII)  # the whole must be valid, also where the split is not used
    words: list[str] = []
    branches, leads = [], []
    for b in split_branches(pattern):
        exact = exact_strings(b)
        if exact is not None:
            words += exact
        else:
            # ASCII classes on both sides: \d is 0-9 and (?i) folds only A-Z, so the literals
            # hyperscan waits for cover exactly what re matches.
            # The window around a literal: the longest match, plus what a lookahead reads past it.
            width = max_width(b) + lookahead_width(b)
            branches.append((re.compile(b, re.ASCII), min(width, MAX_WINDOW), required_literals(b)))
            # Tried only where a leading string occurs when the window is exact (not capped).
            leads.append(leading_literals(b) if width <= MAX_WINDOW else None)
    return make_plan(side, list(dict.fromkeys(words)), branches, side == "orig" and case_insensitive(pattern), leads)

def _all_occurrences(words, target: str) -> list[tuple[int, int, int]]:
    """Every (overlapping) occurrence of each word: what hyperscan's literal scan reports."""
    out = []
    for w in words:
        i = target.find(w)
        while i >= 0:
            out.append((-1, i, i + len(w)))
            i = target.find(w, i + 1)
    return out


def _anchored(rx, width: int, k: int, filtered: bool, occ: list[tuple[int, int, int]], msg: Message, norm: bool, size: int) -> list[tuple[int, int]]:
    """The matches of regex alternative ``k`` found by trying it only where one of its leading
    strings occurs, as ``re.finditer`` over the whole text finds them: every match starts at
    such an occurrence, and at one ``re.match`` does what the search does there. With
    ``filtered``, only where one of its literals (kind ``-2 - k``) occurs near enough for a
    match to hold it. ``width`` is exact here (not capped), so ``re`` sees all it would."""
    starts = sorted({s for kk, s, _ in occ if kk == k})
    if filtered and starts:
        near = merge([(max(s - width, 0), e + width + 1) for kk, s, e in occ if kk == -2 - k])
        keep, j = [], 0
        for s in starts:
            while j < len(near) and near[j][1] <= s:
                j += 1
            if j == len(near):
                break
            if near[j][0] <= s:
                keep.append(s)
        starts = keep
    out: list[tuple[int, int]] = []
    pos = 0
    for s in starts:
        if s < pos:
            continue  # inside the previous match: finditer goes on from its end
        end = s + width + 1 if s + width + 1 < size else size
        sub, base = msg.window(s, end) if norm else (msg.text, 0)
        m = rx.match(sub, s - base, end - base)
        if m is not None:
            pos = base + m.end()
            out.append((s, pos))
    return out


def find_spans(plan: PatternPlan, msg: Message, occ: list[tuple[int, int, int]] | None, region: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    """Merged spans (original characters) of the matches of ``plan``.

    ``occ``: its literal occurrences (``LiteralIndex.occurrences``), or None (engine ``re``):
    then words are found with ``str.find`` and regexes run over the whole text. ``region``:
    sorted original spans — only matches overlapping one are wanted (a rule's second pattern
    near its first one's matches)."""
    norm = plan.side == "norm"
    size = msg.n.codes.size if norm else len(msg.text)
    if occ is None:
        occ = _all_occurrences(plan.words, msg.ntext() if norm else msg.text)
        searched = False
    else:
        searched = True
    found = [(s, e) for k, s, e in occ if k == -1]  # word occurrences are matches
    for k, (rx, width, lits) in enumerate(plan.branches):
        if searched and plan.leads[k] is not None:
            found += _anchored(rx, width, k, plan.filtered[k], occ, msg, norm, size)
            continue
        if searched and lits is not None:
            # A match holds one of the branch's literals [s, e) and is at most `width` long, so
            # it ends before e + width + 1: never exactly at a window's end, where re would see
            # the end of the text.
            windows = [(max(s - width, 0), min(e + width + 1, size)) for kk, s, e in occ if kk == k]
        elif region is None or not searched:
            windows = [(0, size)]
        elif norm:
            windows = []
            for lo, hi in region:
                a, b = msg.to_norm(max(lo - width, 0)), msg.to_norm(hi + width + 1)
                if a is None:  # expansions: no way back, search it all
                    windows = [(0, size)]
                    break
                windows.append((a, b))
        else:
            windows = [(max(lo - width, 0), min(hi + width + 1, size)) for lo, hi in region]
        for a, b in merge(windows):
            if b <= a:
                continue
            sub, base = msg.window(a, b) if norm else (msg.text, 0)
            found += [(base + x, base + y) for x, y in (m.span() for m in rx.finditer(sub, a - base, b - base))]
    if not found:
        return []
    if norm:
        pos = msg.to_original([x for s, e in found for x in (s, e - 1)])
        found = [(pos[k], pos[k + 1] + 1) for k in range(0, len(pos), 2)]
    if region is not None:
        found = [sp for sp in found if any(sp[0] < rh and sp[1] > rl for rl, rh in region)]
    return merge(found)
