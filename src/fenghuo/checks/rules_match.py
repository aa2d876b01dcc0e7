"""Finding rule patterns fast: hyperscan literal scans first, Python's ``re`` only near them.

Running every rule regex over every message is too slow for the guard (measured on a 1 KB
message: Python ``re`` 200–450 µs for one big alternation; hyperscan over all patterns in
start-of-match mode ~65 µs). Every pattern is reduced at load time to literals every match
must contain (``rules_regex.required_literals``). Then, per message:

1. ``LiteralIndex.prefilter``: one literal scan per side (normalised text in the matcher's
   three-bytes-per-character form, original text as UTF-8; one report per literal on the
   UTF-8 side, ``HS_FLAG_SINGLEMATCH``) for the rules' key literals (``rules_due.py``), and
   ``LiteralIndex.confirm``, a small per-rule scan of the other factors' literals near a key
   occurrence, say which rules *can* match. On harmless text that is rare, and the check ends
   here.
2. ``find_spans`` for the patterns of candidate rules: a small literal database per pattern
   gives where its literals occur; a match contains one, so it lies within the pattern's
   longest match (``max_width``, capped at ``MAX_WINDOW``) of an occurrence, and ``re`` runs
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

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import Normalised
from fenghuo.checks.rules_message import Message

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


HIT_BITS = 20  # a prefilter hit is ``position << HIT_BITS | literal id``
HIT_MASK = (1 << HIT_BITS) - 1


def _on_norm_literal(i: int, _frm: int, to: int, _flags: int, hits: list[int]) -> None:
    # A literal ending mid-character is not there (matcher.py). The normalised side's databases
    # report every match, not only the first (no HS_FLAG_SINGLEMATCH): a literal's bytes can
    # occur straddling two characters before its real occurrence ("䂜中丁" holds 丁's bytes
    # across 䂜中), and a first report dropped here would have hidden the real one; and the
    # clauses' distance test wants every occurrence. ``to // 3``: its end, in characters.
    if not to % 3:
        hits.append(to // 3 << HIT_BITS | i)


def _on_orig_every(i: int, _frm: int, to: int, _flags: int, hits: list[int]) -> None:
    hits.append(to << HIT_BITS | i)  # every report (a pattern's own database): its end, in bytes


def _on_orig_literal(i: int, _frm: int, _to: int, _flags: int, hits: list[int]) -> None:
    hits.append(i)  # one report per literal (HS_FLAG_SINGLEMATCH); presence only


class LiteralIndex:
    """The hyperscan side: which clauses' key literals occur (``prefilter``, every message), their
    other factors' literals (``confirm``, when a clause waits for them; ``rules_due.py``) and
    where a pattern's literals occur (``occurrences``, for the rules that are due)."""

    def __init__(self, plans: list[PatternPlan], clauses, encode_norm, cache_dir: Path | None) -> None:
        self._local = threading.local()
        self.plans = plans
        own, self.kinds, self.lengths = [], [], []
        for plan in plans:
            lits = plan.found_by
            base = hyperscan.HS_FLAG_CASELESS if plan.caseless else 0
            exprs = [encode_norm(w) if plan.side == "norm" else w.encode("utf-8") for w, _ in lits]
            own.append((exprs, list(range(len(exprs))), [base] * len(exprs)))
            self.kinds.append([k for _, k in lits])
            self.lengths.append([len(e) // 3 if plan.side == "norm" else len(e) for e in exprs])
        # The first stage: every clause's key literals, each literal once, with the clauses it
        # keys. The second: per clause and side, its other factors' literals (a small database,
        # shared by clauses with the same factors), each id mapped to its factor.
        first: dict[tuple[str, str, bool], int] = {}
        self.key_ids = [tuple(first.setdefault((cl.key.side, w, cl.key.caseless), len(first)) for w in cl.key.words) for cl in clauses]
        self.key_sets = [frozenset(ids) for ids in self.key_ids]
        groups_of: dict = {}  # the same key factor in several clauses (an "all" rule's choices): one id
        self.key_group = [groups_of.setdefault(ids, len(groups_of)) for ids in self.key_ids]
        if len(first) > HIT_MASK:
            raise ValueError("too many prefilter literals")
        self.keyed: list[list[int]] = [[] for _ in first]  # first-stage literal id -> clause indices
        for k, lits in enumerate(self.key_ids):
            for i in lits:
                if k not in self.keyed[i]:
                    self.keyed[i].append(k)
        sides = {"norm": ([], [], []), "orig": ([], [], [])}
        self.key_lengths = [0] * len(first)
        for (side, w, caseless), i in first.items():
            e, idl, f = sides[side]
            e.append(encode_norm(w) if side == "norm" else w.encode("utf-8"))
            idl.append(i)
            self.key_lengths[i] = len(e[-1]) // 3 if side == "norm" else 0
            # One report per literal is enough on the original side (UTF-8 cannot match across a
            # character boundary); the normalised side's three-byte form can (_on_norm_literal).
            single = hyperscan.HS_FLAG_SINGLEMATCH if side == "orig" else 0
            f.append(single | (hyperscan.HS_FLAG_CASELESS if caseless else 0))
        groups = [sides["norm"], sides["orig"]]
        # The second stage, per rule: the distinct other factors of its clauses, in one small
        # database per side (ids -> factor), scanned at most once per message whichever of its
        # clauses wait; per clause, its other factors' indices in its rule's list.
        factors: dict[int, dict] = {}
        self.confirm_idx: list[tuple[int, ...]] = []
        for cl in clauses:
            mine = factors.setdefault(cl.rule, {})
            self.confirm_idx.append(tuple(mine.setdefault(f, len(mine)) for f in cl.confirm))
        self.confirm_of: dict[int, tuple] = {}  # rule -> ((side, database index), ...)
        self.confirm_norm: dict[int, int] = {}  # rule -> its database when that is its only one, on the normalised side
        self.confirm_size: dict[int, int] = {}  # rule -> number of distinct other factors
        self.confirm_factor: list[list[int]] = []  # per database: literal id -> factor index
        self.confirm_lengths: list[list[int]] = []  # per database: literal id -> characters
        for rule, mine in factors.items():
            if not mine:
                continue
            got = []
            for side in ("norm", "orig"):
                exprs, fac, flags = [], [], []
                for f, j in mine.items():
                    if f.side != side:
                        continue
                    for w in f.words:
                        exprs.append(encode_norm(w) if side == "norm" else w.encode("utf-8"))
                        fac.append(j)
                        flags.append((hyperscan.HS_FLAG_SINGLEMATCH if side == "orig" else 0) | (hyperscan.HS_FLAG_CASELESS if f.caseless else 0))
                if exprs:
                    got.append((side, len(groups) - 2))
                    groups.append((exprs, list(range(len(exprs))), flags))
                    self.confirm_factor.append(fac)
                    self.confirm_lengths.append([len(x) // 3 if side == "norm" else 0 for x in exprs])
            self.confirm_of[rule] = tuple(got)
            if len(got) == 1 and got[0][0] == "norm":
                self.confirm_norm[rule] = got[0][1]
            self.confirm_size[rule] = len(mine)
        dbs = load_dbs(groups + own, cache_dir)
        self.pre_norm, self.pre_orig = dbs[:2]
        self.confirm_dbs = dbs[2 : len(groups)]
        self.dbs = dbs[len(groups) :]

    def new_scratch(self, d: int):
        """A scratch for confirmation database ``d`` (``confirm_scratches`` keeps it)."""
        return hyperscan.Scratch(self.confirm_dbs[d])

    def _scratch(self, key, db):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = {}
        got = s.get(key)
        if got is None:
            got = s[key] = hyperscan.Scratch(db)
        return got

    def prefilter(self, text: str, n: Normalised) -> list[int]:
        """First-stage hits (``position << HIT_BITS | literal id``; position 0 on the original
        side) of the message: the per-message path of nearly every message, so it makes no
        closure, no ``Message`` and looks its scratch up once (module-level callbacks writing
        into the list passed as hyperscan's context, as ``matcher.scan_packed``)."""
        try:
            pre = self._local.pre
        except AttributeError:  # this thread's first message
            pre = self._local.pre = (
                hyperscan.Scratch(self.pre_norm) if self.pre_norm is not None else None,
                hyperscan.Scratch(self.pre_orig) if self.pre_orig is not None else None,
            )
        hits: list[int] = []
        pn = self.pre_norm
        if pn is not None:
            # The lexicon's gather of this message, when it ran first (``Normalised.packed``):
            # its length says whether anything was kept, without numpy's ``codes.size``.
            packed = n.packed
            if packed is None:
                if n.codes.size:
                    pn.scan(pack3(n.codes), _on_norm_literal, 0, hits, pre[0])  # positional: see matcher.scan_packed
            elif packed:
                pn.scan(packed, _on_norm_literal, 0, hits, pre[0])
        if self.pre_orig is not None and text:
            try:  # no error handler named: the codec's fast path (normalize.Normaliser.normalise)
                u = text.encode()
            except UnicodeEncodeError:  # a lone surrogate becomes one '?' byte, as in ``Message.utf8``
                u = text.encode("utf-8", "replace")
            self.pre_orig.scan(u, _on_orig_literal, 0, hits, pre[1])
        return hits

    def candidate_literals(self, text: str, n: Normalised) -> list[int]:
        """The distinct first-stage literal ids found in the message, in order of first report."""
        return list(dict.fromkeys(h & HIT_MASK for h in self.prefilter(text, n)))

    def confirm_scratches(self) -> list:
        """This thread's scratch per confirmation database (None until first used)."""
        try:
            return self._local.confirm
        except AttributeError:  # this thread's first confirmation
            s = self._local.confirm = [None] * len(self.confirm_dbs)
            return s

    def confirm_hits(self, rule: int, d: int, hits: list[int], lo: int) -> list[list[tuple[int, int]]]:
        """``confirm``'s answer from the reports of database ``d`` (``rule``'s only one, normalised
        side) over a stretch starting at character ``lo``."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.confirm_size[rule])]
        fac, lengths = self.confirm_factor[d], self.confirm_lengths[d]
        for h in hits:
            i = h & HIT_MASK
            e = (h >> HIT_BITS) + lo
            out[fac[i]].append((e - lengths[i], e))
        return out

    def confirm(self, rule: int, text: str, n: Normalised, lo: int = 0, hi: int | None = None, packed: bytes | None = None) -> list[list[tuple[int, int]]] | None:
        """Occurrences (normalised characters; (0, 0) on the original side: presence only) of each
        distinct other factor of ``rule``'s clauses (``confirm_idx``): one scan per side, on the
        normalised side only of characters [lo, hi) (None: to the end); None when none of them
        occurs (the usual answer: no clause can then be due). ``packed``: the message's
        three-byte form when the caller has it. Called for ~3 rules per 1 KB message, so the
        thread's scratches are a list by database, not ``_scratch``'s dict."""
        out = None
        scratches = self.confirm_scratches()
        for side, d in self.confirm_of[rule]:
            db = self.confirm_dbs[d]
            scratch = scratches[d]
            if scratch is None:
                scratch = scratches[d] = self.new_scratch(d)
            hits: list[int] = []
            if side == "orig":
                if text:
                    db.scan(text.encode("utf-8", "replace"), _on_orig_literal, 0, hits, scratch)
                if hits:
                    fac = self.confirm_factor[d]
                    if out is None:
                        out = [[] for _ in range(self.confirm_size[rule])]
                    for i in hits:
                        out[fac[i]].append((0, 0))
                continue
            if n.codes.size:
                # Bytes (3 per character): ``pack3`` gives one array element per character.
                if packed is None:
                    packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
                db.scan(packed[3 * lo : None if hi is None else 3 * hi] if lo or hi is not None else packed, _on_norm_literal, 0, hits, scratch)
            if hits:
                fac, lengths = self.confirm_factor[d], self.confirm_lengths[d]
                if out is None:
                    out = [[] for _ in range(self.confirm_size[rule])]
                for h in hits:
                    i = h & HIT_MASK
                    e = (h >> HIT_BITS) + lo
                    out[fac[i]].append((e - lengths[i], e))
        return out

    def occurrences(self, pid: int, msg: Message) -> list[tuple[int, int, int]]:
        """(kind, start, end) of every literal occurrence, in normalised characters for a
        normalised-text pattern, in original characters for an original-text one. Arguments by
        position and module-level callbacks, as in ``prefilter`` (the binding parses keywords
        at ~0.5 µs a call)."""
        db = self.dbs[pid]
        if db is None:
            return []
        kinds, lengths = self.kinds[pid], self.lengths[pid]
        hits: list[int] = []
        if self.plans[pid].side == "norm":
            if not msg.n.codes.size:
                return []
            db.scan(msg.packed(), _on_norm_literal, 0, hits, self._scratch(pid, db))
            return [(kinds[h & HIT_MASK], (h >> HIT_BITS) - lengths[h & HIT_MASK], h >> HIT_BITS) for h in hits]
        if not msg.text:
            return []
        db.scan(msg.utf8(), _on_orig_every, 0, hits, self._scratch(pid, db))
        if not hits:
            return []
        pos = msg.chars([x for h in hits for x in ((h >> HIT_BITS) - lengths[h & HIT_MASK], h >> HIT_BITS)])
        return [(kinds[h & HIT_MASK], pos[2 * j], pos[2 * j + 1]) for j, h in enumerate(hits)]


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
