"""Turning raw matcher hits into findings: allow-list, containment, spans in the original text.

Two implementations of the same rules, chosen by the number of hits, because neither is fast
at both ends: dense text (COLD: ~80k hits in 20 MB) needs whole-array numpy — the per-hit
Python loop was half the scan time — while a 1 KB message has ~5 hits, where ~35 numpy calls
at ~1 µs each cost more than the loop. Tests check the two agree.

Rules: hits sorted by (start, longest first); a hit inside an allow-listed occurrence is
dropped; a hit inside a longer kept hit is dropped; pure-ASCII words must stand on word
boundaries of the original text and may span whitespace only between single letters.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from fenghuo.checks.base import Finding

FEW = 24  # hits up to which the Python path is faster (measured crossover ~30-40)


def resolve_many(st, text: str, n, hits, base: int = 0, origin=None, tbase: int = 0) -> list[Finding]:
    """Whole-array resolution of ``(pid, start, end)`` arrays.

    The allow rule uses a running maximum of allow-listed ends looked up by start; the
    containment rule a running maximum of ends (hits dropped for containment never raise it,
    so it equals the maximum over kept hits). ``origin`` (optional) maps normalised positions
    to original ones directly (the stream) instead of ``n``; ``base`` is added to spans;
    ``text`` is the original text from absolute offset ``tbase`` (ASCII boundary check).
    """

    pid, start, end = hits
    if not pid.size:
        return []
    if pid.size > 1:
        order = np.lexsort((-end, start))
        pid, start, end = pid[order], start[order], end[order]
    allow = st.is_allow[pid]
    if allow.any():
        a_start, a_reach = start[allow], np.maximum.accumulate(end[allow])
        cand = ~allow
        pid, start, end = pid[cand], start[cand], end[cand]
        k = np.searchsorted(a_start, start, side="right") - 1
        free = (k < 0) | (a_reach[np.maximum(k, 0)] < end)
        pid, start, end = pid[free], start[free], end[free]
        if not pid.size:
            return []
    if pid.size > 1:
        longest = np.empty(pid.size, dtype=bool)
        longest[0] = True
        np.greater(end[1:], np.maximum.accumulate(end)[:-1], out=longest[1:])
        pid, start, end = pid[longest], start[longest], end[longest]
    # One mapping back to the original for all kept hits.
    k = pid.size
    pos = np.concatenate([start, end - 1])
    orig = origin[pos] if origin is not None else n.to_original(pos)
    ostart, oend = orig[:k] + base, orig[k:] + (base + 1)
    asc = st.ascii_word[pid]
    if asc.any():
        idx = np.flatnonzero(asc)
        bad = [i for i, i_pid, s, e in zip(idx.tolist(), pid[idx].tolist(), ostart[idx].tolist(), oend[idx].tolist()) if not ascii_ok(text, s - tbase, e - tbase, st.spaced.get(i_pid))]
        if bad:
            keep = np.ones(k, dtype=bool)
            keep[bad] = False
            pid, ostart, oend = pid[keep], ostart[keep], oend[keep]
    tid = st.tmpl_off[pid]
    if st.multi_category:  # one finding per category of a word: repeat its span
        cnt = st.tmpl_n[pid]
        rep = np.repeat(np.arange(pid.size), cnt)
        tid = tid[rep] + np.arange(rep.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ostart, oend = ostart[rep], oend[rep]
    t = st.templates
    return [Finding(c, s, e, r, a, k) for (c, r, a, k), s, e in zip(map(t.__getitem__, tid.tolist()), ostart.tolist(), oend.tolist())]


def resolve_few(st, text: str, n, raw: list[int]) -> list[Finding]:
    """The same rules in plain Python for a few hits; ``raw`` is the engine's flat
    ``[pid, end, pid, end, …]`` list (ends in normalised characters).

    Written for a 1 KB message's ~5 hits, where every Python-level step counts: the allow-list
    test is one C-level ``isdisjoint`` over the pattern ids (a generator over the hits before),
    and the map back to the original is inlined per kept hit rather than built as lists
    (``Normalised.to_original_list``). Measured 7.3 -> 5.3 µs CPU per message (COLD dev cuts,
    interleaved A/B); ``tests/checks/test_resolve.py`` pins it to ``resolve_many``.
    """
    lengths = st.lengths
    it = iter(raw)
    hits = sorted([(e - lengths[p], -e, p) for p, e in zip(it, it)])
    kept = []
    max_end = -1
    if st.allow_ids.isdisjoint(raw[0::2]):  # the common case: no allow-listed word in sight
        for s, ne, p in hits:
            if -ne > max_end:
                max_end = -ne
                kept.append((p, s, max_end))
    else:
        is_allow = st.is_allow_list
        allowed = [(s, -ne) for s, ne, p in hits if is_allow[p]]
        ai, allow_end = 0, -1
        for s, ne, p in hits:
            e = -ne
            if is_allow[p] or e <= max_end:
                continue
            while ai < len(allowed) and allowed[ai][0] <= s:
                allow_end = max(allow_end, allowed[ai][1])
                ai += 1
            if allow_end >= e:
                continue
            kept.append((p, s, e))
            max_end = e
    if not kept:
        return []
    out = []
    add = out.append
    by_pid, ascii_word = st.templates_by_pid, st.ascii_list
    steps = n.steps
    if steps is not None:
        steps = steps.tolist()
        shift = None if n.shift is None else n.shift.tolist()
    for p, s, e in kept:
        e -= 1
        if steps is not None:  # normalised -> original (``Normalised.to_original``)
            if shift is None:
                s += bisect_right(steps, s)
                e += bisect_right(steps, e)
            else:
                s += shift[bisect_right(steps, s)]
                e += shift[bisect_right(steps, e)]
        e += 1
        if ascii_word[p] and not ascii_ok(text, s, e, st.spaced.get(p)):
            continue
        for c, r, a, risk in by_pid[p]:
            add(Finding(c, s, e, r, a, risk))
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def ascii_ok(text: str, start: int, end: int, shapes: frozenset | None = None) -> bool:
    """Word boundaries in the original text; inner whitespace only between single letters, or
    where the lexicon word itself has it (``shapes``: the token lengths of the word's spaced
    spellings, so ``domestic violence`` matches as written but not as ``domest icviolence``)."""
    if start > 0 and _is_word_char(text[start - 1]) and _is_word_char(text[start]):
        return False
    if end < len(text) and _is_word_char(text[end]) and _is_word_char(text[end - 1]):
        return False
    span = text[start:end]
    if any(ch.isspace() for ch in span):
        toks = span.split()
        return all(len(tok) == 1 for tok in toks) or (shapes is not None and tuple(map(len, toks)) in shapes)
    return True
