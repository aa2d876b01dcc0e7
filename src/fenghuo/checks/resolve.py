"""Turning raw matcher hits into findings: allow-list, containment, spans in the original text.

Two implementations of the same rules, chosen by the number of hits, because neither is fast
at both ends: dense text (COLD: ~80k hits in 20 MB) needs whole-array numpy — the per-hit
Python loop was half the scan time — while a 1 KB message has ~5 hits, where ~35 numpy calls
at ~1 µs each cost more than the loop. Tests check the two agree.

Rules: hits sorted by (start, longest first); a hit inside an allow-listed occurrence is
dropped; a hit inside a longer kept hit is dropped; then the boundary rules, per word
(``bounds_ok``): pure-ASCII words must stand on word boundaries of the original text and may
span whitespace only between single letters; a word that starts or ends with a Latin letter or
digit (``3级``, ``色b``) needs a Latin word boundary on that side; a short word (≤ 2 characters
with a Chinese character) must start and end on a token boundary of jieba's segmentation of
the text around it (``人大`` is not in 「河南人|大部分」), computed only for such hits.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from functools import lru_cache

import numpy as np

from fenghuo.checks.base import Finding
from fenghuo.checks.normalize import decode_quad

FEW = 24  # hits up to which the Python path is faster (measured crossover ~30-40)

# Boundary rules per pattern (bit flags, ``_Compiled.bflags``).
B_ASCII = 1  # pure-ASCII word: ``ascii_ok``
B_LSTART = 2  # starts with a Latin letter/digit: no Latin letter/digit right before it
B_LEND = 4  # ends with one: none right after it
B_SHORT = 8  # ≤ 2 characters with a Chinese one: must align with jieba's tokens
B_HOMOPHONE = 16  # a homophone hit: its own characters must not read as ordinary words (``ordinary``)
SHORT_LEN = 2
# Characters of context on each side given to jieba: enough for the words crossing a short
# hit (jieba's dictionary words are rarely longer than 4), few enough to keep it cheap.
SEG_CONTEXT = 6


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
    codes = n.codes if n is not None else None
    if codes is not None and (st.bflags[pid] & B_SHORT).any():
        short = np.flatnonzero(st.bflags[pid] & B_SHORT)
        hflags = st.bflags[pid[short]] & B_HOMOPHONE
        bad = [i for i, s, e, h in zip(short.tolist(), start[short].tolist(), end[short].tolist(), hflags.tolist())
               if not short_ok(codes, s, e) or (h and ordinary(codes, s, e))]
        if bad:
            keep = np.ones(pid.size, dtype=bool)
            keep[bad] = False
            pid, start, end = pid[keep], start[keep], end[keep]
    k = pid.size
    pos = np.concatenate([start, end - 1])
    orig = origin[pos] if origin is not None else n.to_original(pos)
    ostart, oend = orig[:k] + base, orig[k:] + (base + 1)
    flags = st.bflags[pid]
    if flags.any():
        idx = np.flatnonzero(flags)
        bad = [
            i
            for i, i_pid, f, s, e in zip(idx.tolist(), pid[idx].tolist(), flags[idx].tolist(), ostart[idx].tolist(), oend[idx].tolist())
            if not bounds_ok(text, s - tbase, e - tbase, f, st.spaced.get(i_pid), codes)
        ]
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
    kept = []
    if len(raw) == 2:
        # One hit (57 % of the calls with the shared lexicon on 50-character COLD cuts): kept
        # unless it is an allow-listed word itself, as the general loops below would decide.
        p, e = raw
        if p in st.allow_ids:
            return []
        kept.append((p, e - lengths[p], e))
    else:
        it = iter(raw)
        hits = sorted([(e - lengths[p], -e, p) for p, e in zip(it, it)])
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
    by_pid, bflags = st.templates_by_pid, st.bflags_list
    steps = n.steps
    if steps is not None:
        steps = steps.tolist()
        shift = None if n.shift is None else n.shift.tolist()
    codes = n.codes
    cb = None  # the codes' bytes, made once for the short-word tests' cache keys
    for p, s, e in kept:
        if bflags[p] & B_SHORT:
            if cb is None:
                cb = codes.tobytes()
            if not _short_ok_bytes(cb, codes, s, e) or (bflags[p] & B_HOMOPHONE and _ordinary_bytes(cb, codes, s, e)):
                continue
        e -= 1
        if steps is not None:  # normalised -> original (``Normalised.to_original``)
            if shift is None:
                s += bisect_right(steps, s)
                e += bisect_right(steps, e)
            else:
                s += shift[bisect_right(steps, s)]
                e += shift[bisect_right(steps, e)]
        e += 1
        if bflags[p] and not bounds_ok(text, s, e, bflags[p], st.spaced.get(p), codes):
            continue
        for c, r, a, risk in by_pid[p]:
            add(Finding(c, s, e, r, a, risk))
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _is_latin(ch: str) -> bool:
    """An ASCII or full-width Latin letter or digit (what case folding and NFKC fold to ASCII)."""
    return ch.isalnum() and (ch.isascii() or "\uff10" <= ch <= "\uff5a")


def bounds_ok(text: str, start: int, end: int, flags: int, shapes: frozenset | None = None, codes=None) -> bool:
    """The boundary rules of one kept hit at original ``[start, end)`` (see module docstring).
    The short-word rule is left to the caller (``short_ok``) when it has the normalised
    ``codes``, and applied here on the original text otherwise."""
    if flags & B_ASCII:
        return ascii_ok(text, start, end, shapes)
    if flags & B_LSTART and start > 0 and _is_latin(text[start - 1]):
        return False
    if flags & B_LEND and end < len(text) and _is_latin(text[end]):
        return False
    if flags & B_SHORT and codes is None:  # no normalised text at hand (the stream): the original
        if flags & B_HOMOPHONE and reads_as_words(text[start:end]):
            return False
        return segment_ok(text, start, end)
    return True


def segment_ok(text: str, start: int, end: int) -> bool:
    """Whether ``[start, end)`` starts and ends on jieba token boundaries of ``text`` around it."""
    lo = max(0, start - SEG_CONTEXT)
    return _aligned(text[lo : end + SEG_CONTEXT], start - lo, end - lo)


@lru_cache(maxsize=8192)
def _aligned(window: str, a: int, b: int) -> bool:
    """``[a, b)`` of ``window`` on jieba token boundaries (cached like ``token_cuts``: the
    pre-test below still costs ~2.5 µs per call once jieba's cuts are cached, and repeated
    messages repeat their windows; a pure function of its arguments, jieba's dictionary being
    fixed once loaded).

    Fast exact pre-test first: a segmentation only ever cuts *inside* a dictionary word, so if
    no dictionary word of the window crosses ``a`` or ``b`` (starts before and ends inside or
    after, or starts inside and ends after), every segmentation has cuts at both and jieba
    need not run. Measured: most short hits in harmless text (黄色 in 「蓝色和黄色」) end here at
    ~3 µs; a crossing word (河南人 across 人大 in 「河南人大部分」) sends the window to jieba (~25 µs)."""
    freq = segmenter().FREQ
    n = len(window)
    # jieba keeps a run of ASCII letters and digits as one token (``group``, ``han``).
    for k in (a, b):
        if 0 < k < n and _is_word_char(window[k - 1]) and _is_word_char(window[k]):
            return False
    for i in range(0, b):
        j = i + 1
        while j <= n:
            f = freq.get(window[i:j])
            if f is None:  # FREQ holds every prefix of its words (count 0): no longer word here
                break
            if f and j - i > 1 and ((i < a < j) or (i < b < j)) and not (i == a and j == b):
                cuts = token_cuts(window)
                return a in cuts and b in cuts
            j += 1
    return True


def short_ok(codes: np.ndarray, start: int, end: int) -> bool:
    """``segment_ok`` on the *normalised* text (``codes``, normalised positions): segmented as
    it reads once separators are gone, so 「好赌 博」 is judged as 「好赌博」, and 「賭博」 as 「赌博」.

    Cached on the window's codes as bytes, in front of ``_aligned``'s cache on the decoded
    window: decoding the quad codes is ~9 numpy calls (~2 µs), the bytes key one slice and one
    copy (~0.3 µs). A pure function of its arguments, like ``_aligned``."""
    lo = max(0, start - SEG_CONTEXT)
    w = codes[lo : end + SEG_CONTEXT]
    key = (w.tobytes(), start - lo, end - lo)
    got = _SHORT_OK.get(key)
    if got is None:
        got = _aligned(decode_quad(w).tobytes().decode("utf-32-le", "surrogatepass"), start - lo, end - lo)
        if len(_SHORT_OK) >= _SHORT_OK_MAX:
            _SHORT_OK.clear()  # bounded; repeated text refills it
        _SHORT_OK[key] = got
    return got


_SHORT_OK: dict = {}
_SHORT_OK_MAX = 8192


def _short_ok_bytes(cb: bytes, codes: np.ndarray, start: int, end: int) -> bool:
    """``short_ok`` with its key sliced from ``cb`` (``codes.tobytes()``, made once per message):
    the same key as ``short_ok``'s (4 bytes per code, slices clamp alike) and the same cache,
    without a numpy slice and copy per hit."""
    lo = max(0, start - SEG_CONTEXT)
    key = (cb[4 * lo : 4 * (end + SEG_CONTEXT)], start - lo, end - lo)
    got = _SHORT_OK.get(key)
    if got is None:
        got = _aligned(decode_quad(codes[lo : end + SEG_CONTEXT]).tobytes().decode("utf-32-le", "surrogatepass"), start - lo, end - lo)
        if len(_SHORT_OK) >= _SHORT_OK_MAX:
            _SHORT_OK.clear()
        _SHORT_OK[key] = got
    return got


def _ordinary_bytes(cb: bytes, codes: np.ndarray, start: int, end: int) -> bool:
    """``ordinary`` cached on the hit's code bytes: a pure function of them (jieba's dictionary
    is fixed once loaded); uncached it ran jieba's ``lcut`` on every homophone hit (~15 % of
    ``resolve_few``'s py-spy samples with the shared lexicon on COLD cuts)."""
    key = cb[4 * start : 4 * end]
    got = _ORDINARY.get(key)
    if got is None:
        got = ordinary(codes, start, end)
        if len(_ORDINARY) >= _SHORT_OK_MAX:
            _ORDINARY.clear()  # bounded; repeated text refills it
        _ORDINARY[key] = got
    return got


_ORDINARY: dict = {}


def ordinary(codes: np.ndarray, start: int, end: int) -> bool:
    """``reads_as_words`` on the normalised hit ``[start, end)``."""
    return reads_as_words(decode_quad(codes[start:end]).tobytes().decode("utf-32-le", "surrogatepass"))


def reads_as_words(span: str) -> bool:
    """Whether a homophone hit's own characters read as ordinary words: jieba's dictionary
    segmentation (no HMM guesses) covers them with words of two or more characters, but for at
    most one common character (``COMMON_CHAR`` in jieba's counts). 「技术总监」 (技术|总监) sounds
    like a listed porn phrase, 「甚至于」 and 「由于你」 (由于|你) like others: measured on held-out
    harmless text, such coincidences were every homophone false positive (9 of 9 on COLD dev),
    and the harmful texts they caught were caught by coincidence too (「当妈妈」, 「提供家政」).
    An evasion is written to *not* be the word: it seldom forms other words (「发轮功」 is
    发|轮|功), and where it keeps a real part, the swapped-in character is a rare one
    (「六合婇」: 六合|婇, and 婇 is rare)."""
    span = "".join(ch for ch in span if not ch.isspace() and (ch.isalnum() or ord(ch) > 0x2E7F))
    if len(span) < 2:
        return False
    seg = segmenter()
    freq = seg.FREQ
    rest = [w for w in seg.lcut(span, HMM=False) if len(w) < 2 or not freq.get(w)]
    return len(rest) <= 1 and all(len(w) == 1 and freq.get(w, 0) >= COMMON_CHAR for w in rest)


# A character counted at least this often in jieba's dictionary is an everyday one (你 234,587,
# 选 7,132, 溜 1,757); the look-alikes people swap in are rare (婇 146, 艹 79, 磮 not listed).
COMMON_CHAR = 1000


_JIEBA = None
_JIEBA_LOCK = threading.Lock()


def segmenter():
    """jieba's default tokenizer, initialised once (~0.5-0.8 s: its prefix dictionary).

    jieba rather than a rule of our own: whether ``人大`` is a word in 「河南人大部分」 depends on
    the words around it, which is what a dictionary segmenter with word frequencies decides;
    measured ~25 µs per short hit with a 14-character window (HMM off: unknown words split
    into single characters, which only ever accepts a hit)."""
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _JIEBA = jieba.dt
    return _JIEBA


@lru_cache(maxsize=8192)
def token_cuts(window: str) -> frozenset:
    """Offsets in ``window`` where jieba's tokens start or end (cached: spam repeats itself)."""
    cuts, pos = {0}, 0
    for tok in segmenter().cut(window, HMM=False):
        pos += len(tok)
        cuts.add(pos)
    return frozenset(cuts)


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
