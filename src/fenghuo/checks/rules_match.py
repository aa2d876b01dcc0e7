"""Finding rule patterns fast: hyperscan literal scans first, Python's ``re`` only near them.

Running every rule regex over every message is too slow for the guard (measured on a 1 KB
message: Python ``re`` 200–450 µs for one big alternation; hyperscan over all patterns in
start-of-match mode ~65 µs). Every pattern is reduced at load time to literals every match
must contain (``rules_regex.required_literals``). Then, per message:

1. ``LiteralIndex.candidates``: one literal scan per side (normalised text in the matcher's
   three-bytes-per-character form, original text as UTF-8; one report per literal on the
   UTF-8 side, ``HS_FLAG_SINGLEMATCH``), says which patterns *can* match. On harmless text a rule's
   patterns are rarely all there, and the check ends here.
2. ``find_spans`` for the patterns of candidate rules: a small literal database per pattern
   gives where its literals occur; a match contains one, so it lies within the pattern's
   longest match (``max_width``, capped at ``MAX_WINDOW``) of an occurrence, and ``re`` runs
   only in those short windows. The spans are exactly ``re``'s, as with engine ``re``.

Not hyperscan's regex start-of-match mode: besides its cost, hyperscan 5.4 (python-hyperscan
0.9.1) crashed the process (SIGSEGV) scanning a 1 KB message in that mode with the pattern
``\\d+\\s*(?:💰|💴|💵|🧧)|(?:💰|💴|💵)\\s*\\d+``. Literal mode is hyperscan's simplest path.
"""

from __future__ import annotations

import hashlib
import os
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import Normalised, decode_quad

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

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


class Message:
    """One message while it is checked: its encodings, each made once and only when needed."""

    __slots__ = ("text", "n", "_packed", "_utf8", "_ntext", "_dropped", "_steps")

    def __init__(self, text: str, n: Normalised) -> None:
        self.text, self.n = text, n
        self._packed = self._utf8 = self._ntext = self._dropped = self._steps = None

    def to_original(self, positions: list[int]) -> list[int]:
        """``Normalised.to_original_list`` with its lists made once per message, not per call."""
        n = self.n
        if n.steps is None:
            return positions
        if self._steps is None:
            self._steps = (n.steps.tolist(), None if n.shift is None else n.shift.tolist())
        steps, shift = self._steps
        if shift is None:
            return [p + bisect_right(steps, p) for p in positions]
        return [p + shift[bisect_right(steps, p)] for p in positions]

    def packed(self):
        if self._packed is None:
            self._packed = pack3(self.n.codes)
        return self._packed

    def utf8(self) -> bytes:
        if self._utf8 is None:
            # A lone surrogate becomes one '?' byte: character offsets stay exact.
            self._utf8 = self.text.encode("utf-8", "replace")
        return self._utf8

    def ntext(self) -> str:
        if self._ntext is None:
            self._ntext = self.n.text()  # ~10 µs per 1 KB: only for messages that get this far
        return self._ntext

    def window(self, a: int, b: int) -> tuple[str, int]:
        """Normalised text covering [a, b) and the position it starts at: the whole text once
        decoded, else just this stretch plus 8 characters before it (enough for ``re`` to judge
        a boundary at ``a``) — decoding all of a 1 KB message costs ~10 µs."""
        if self._ntext is not None:
            return self._ntext, 0
        start = max(a - 8, 0)
        codes = self.n.codes[start:b]
        return decode_quad(codes).tobytes().decode("utf-32-le", "surrogatepass"), start

    def chars(self, offsets: list[int]) -> list[int]:
        """UTF-8 byte offsets → character offsets."""
        data = self.utf8()
        if len(data) == len(self.text):
            return offsets
        if len(offsets) <= 16:
            return [len(data[:o].decode("utf-8", "replace")) for o in offsets]
        starts = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
        cum = np.concatenate([[0], np.cumsum(starts)])
        return cum[np.asarray(offsets)].tolist()

    def to_norm(self, c: int) -> int | None:
        """The normalised position of the first character kept at or after original ``c``;
        None when some character expanded into several (``ﬁ``): then there is no cheap way back."""
        n = self.n
        if n.steps is None:
            return min(c, n.codes.size)
        if n.shift is not None:
            return None
        if self._dropped is None:  # original positions of the dropped characters
            self._dropped = (n.steps + np.arange(n.steps.size)).tolist()
        return min(c - bisect_left(self._dropped, c), n.codes.size)


def load_dbs(groups: list[tuple[list[bytes], list[int], list[int]]], cache_dir: Path | None) -> list:
    """Literal databases, one per (expressions, ids, flags) group (None for an empty group),
    cached together on disk under a content hash (hashlib, not ``hash()``: the same key in every
    process), since compiling them all takes a few hundred ms."""
    cached = None
    if cache_dir is not None:
        h = hashlib.sha256(f"rules-literal|{hyperscan.__version__}".encode())
        for exprs, ids, flags in groups:
            h.update(f"|{len(exprs)}|{ids}|{flags}".encode())
            for e in exprs:
                h.update(len(e).to_bytes(4, "little") + e)
        cached = cache_dir / f"rules-{h.hexdigest()[:24]}.hsdbs"
        if cached.exists():
            try:
                blob, dbs, at = cached.read_bytes(), [], 0
                for _ in groups:
                    size = int.from_bytes(blob[at : at + 8], "little")
                    dbs.append(hyperscan.loadb(blob[at + 8 : at + 8 + size], mode=hyperscan.HS_MODE_BLOCK) if size else None)
                    at += 8 + size
                return dbs
            except Exception:  # noqa: BLE001 - a stale or foreign cache file: compile below
                pass
    dbs = []
    for exprs, ids, flags in groups:
        if not exprs:
            dbs.append(None)
            continue
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags, literal=True)
        dbs.append(db)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            blobs = [hyperscan.dumpb(db) if db is not None else b"" for db in dbs]
            tmp.write_bytes(b"".join(len(b).to_bytes(8, "little") + b for b in blobs))
            tmp.replace(cached)
        except OSError:
            pass
    return dbs


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
    # (literal, kind) for the hyperscan database: kind -1 for a word, else the regex
    # alternative it belongs to (alternatives without literals are not in it).
    literals: tuple
    complete: bool  # every alternative has literals: the pattern can wait for the prefilter


def make_plan(side: str, words: list[str], branches: list, caseless: bool) -> PatternPlan:
    lits = [(w, -1) for w in words]
    complete = True
    for k, (_, _, branch_lits) in enumerate(branches):
        if branch_lits is None:
            complete = False
        else:
            lits += [(w, k) for w in branch_lits]
    return PatternPlan(side, tuple(words), tuple(branches), caseless, tuple(lits), complete)


def _on_norm_literal(i: int, _frm: int, to: int, _flags: int, lit: list[int]) -> None:
    # A literal ending mid-character is not there (matcher.py). The normalised side's database
    # reports every match, not only the first (no HS_FLAG_SINGLEMATCH): a literal's bytes can
    # occur straddling two characters before its real occurrence ("䂜中丁" holds 丁's bytes
    # across 䂜中), and a first report dropped here would have hidden the real one.
    if not to % 3 and i not in lit:
        lit.append(i)


def _on_orig_literal(i: int, _frm: int, _to: int, _flags: int, lit: list[int]) -> None:
    lit.append(i)


class LiteralIndex:
    """The hyperscan side: which patterns can match (``candidates``) and where their literals
    occur (``occurrences``). ``trigger`` names the patterns that start rules (the others only
    veto, and are never worth a prefilter report)."""

    def __init__(self, plans: list[PatternPlan], trigger: set[int], encode_norm, cache_dir: Path | None) -> None:
        self._local = threading.local()
        self.plans = plans
        # The prefilter holds each distinct literal once (patterns share words: 2,630 distinct of
        # 5,707), with the patterns it stands for; a smaller database stays in the CPU cache.
        pre_ids: dict[tuple[str, str, bool], int] = {}
        pre_pids: list[list[int]] = []
        own, self.kinds, self.lengths = [], [], []
        for pid, plan in enumerate(plans):
            lits = plan.literals
            base = hyperscan.HS_FLAG_CASELESS if plan.caseless else 0
            exprs = [encode_norm(w) if plan.side == "norm" else w.encode("utf-8") for w, _ in lits]
            own.append((exprs, list(range(len(exprs))), [base] * len(exprs)))
            self.kinds.append([k for _, k in lits])
            self.lengths.append([len(e) // 3 if plan.side == "norm" else len(e) for e in exprs])
            if pid in trigger and plan.complete:
                for w, _ in lits:
                    key = (plan.side, w, plan.caseless)
                    if key not in pre_ids:
                        pre_ids[key] = len(pre_pids)
                        pre_pids.append([])
                    pre_pids[pre_ids[key]].append(pid)
        pre = {"norm": ([], [], []), "orig": ([], [], [])}
        for (side, w, caseless), i in pre_ids.items():
            e, ids, f = pre[side]
            e.append(encode_norm(w) if side == "norm" else w.encode("utf-8"))
            ids.append(i)
            # One report per literal is enough on the original side (UTF-8 cannot match across a
            # character boundary); the normalised side's three-byte form can (_on_norm_literal).
            single = hyperscan.HS_FLAG_SINGLEMATCH if side == "orig" else 0
            f.append(single | (hyperscan.HS_FLAG_CASELESS if caseless else 0))
        self.pre_pids = [tuple(dict.fromkeys(p)) for p in pre_pids]
        dbs = load_dbs([pre["norm"], pre["orig"]] + own, cache_dir)
        self.pre_norm, self.pre_orig, self.dbs = dbs[0], dbs[1], dbs[2:]

    def _scratch(self, key, db):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = {}
        got = s.get(key)
        if got is None:
            got = s[key] = hyperscan.Scratch(db)
        return got

    def candidate_literals(self, text: str, n: Normalised) -> list[int]:
        """Prefilter literal ids found in the message (``candidates`` before the map to
        patterns), without a ``Message``: the per-message path of nearly every message, so it
        makes no closure, no ``Message`` and looks its scratch up once (module-level callbacks
        writing into the list passed as hyperscan's context, as ``matcher.scan_packed``)."""
        try:
            pre = self._local.pre
        except AttributeError:  # this thread's first message
            pre = self._local.pre = (
                hyperscan.Scratch(self.pre_norm) if self.pre_norm is not None else None,
                hyperscan.Scratch(self.pre_orig) if self.pre_orig is not None else None,
            )
        lit: list[int] = []
        pn = self.pre_norm
        if pn is not None:
            # The lexicon's gather of this message, when it ran first (``Normalised.packed``):
            # its length says whether anything was kept, without numpy's ``codes.size``.
            packed = n.packed
            if packed is None:
                if n.codes.size:
                    pn.scan(pack3(n.codes), _on_norm_literal, 0, lit, pre[0])  # positional: see matcher.scan_packed
            elif packed:
                pn.scan(packed, _on_norm_literal, 0, lit, pre[0])
        if self.pre_orig is not None and text:
            try:  # no error handler named: the codec's fast path (normalize.Normaliser.normalise)
                u = text.encode()
            except UnicodeEncodeError:  # a lone surrogate becomes one '?' byte, as in ``Message.utf8``
                u = text.encode("utf-8", "replace")
            self.pre_orig.scan(u, _on_orig_literal, 0, lit, pre[1])
        return lit

    def candidates(self, msg: Message) -> set[int]:
        """Patterns one of whose literals occurs in the message (the general form, kept as the
        reference ``candidate_literals`` is tested against)."""
        lit: list[int] = []
        add = lit.append

        def on_norm(i, _frm, to, _f, _c):
            if not to % 3:  # a literal ending mid-character is not there (matcher.py)
                add(i)

        if self.pre_norm is not None and msg.n.codes.size:
            self.pre_norm.scan(msg.packed(), match_event_handler=on_norm, scratch=self._scratch("n", self.pre_norm))
        if self.pre_orig is not None and msg.text:
            self.pre_orig.scan(msg.utf8(), match_event_handler=lambda i, _a, _b, _f, _c: add(i), scratch=self._scratch("o", self.pre_orig))
        if not lit:
            return set()
        pids = self.pre_pids
        return {p for i in lit for p in pids[i]}

    def occurrences(self, pid: int, msg: Message) -> list[tuple[int, int, int]]:
        """(kind, start, end) of every literal occurrence, in normalised characters for a
        normalised-text pattern, in original characters for an original-text one."""
        db = self.dbs[pid]
        if db is None:
            return []
        kinds, lengths = self.kinds[pid], self.lengths[pid]
        hits: list[int] = []
        if self.plans[pid].side == "norm":
            if not msg.n.codes.size:
                return []

            def on_norm(i, _frm, to, _f, _c):
                if not to % 3:
                    hits.extend((i, to // 3 - lengths[i], to // 3))

            db.scan(msg.packed(), match_event_handler=on_norm, scratch=self._scratch(pid, db))
            return [(kinds[hits[k]], hits[k + 1], hits[k + 2]) for k in range(0, len(hits), 3)]
        if not msg.text:
            return []
        db.scan(msg.utf8(), match_event_handler=lambda i, _frm, to, _f, _c: hits.extend((i, to - lengths[i], to)), scratch=self._scratch(pid, db))
        if not hits:
            return []
        pos = msg.chars([x for k in range(0, len(hits), 3) for x in (hits[k + 1], hits[k + 2])])
        return [(kinds[hits[3 * j]], pos[2 * j], pos[2 * j + 1]) for j in range(len(pos) // 2)]


def _all_occurrences(words, target: str) -> list[tuple[int, int, int]]:
    """Every (overlapping) occurrence of each word: what hyperscan's literal scan reports."""
    out = []
    for w in words:
        i = target.find(w)
        while i >= 0:
            out.append((-1, i, i + len(w)))
            i = target.find(w, i + 1)
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
    found = [(s, e) for k, s, e in occ if k < 0]  # word occurrences are matches
    for k, (rx, width, lits) in enumerate(plan.branches):
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
