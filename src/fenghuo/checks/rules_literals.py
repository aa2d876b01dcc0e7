"""The rules' hyperscan side: literal databases (``load_dbs``, cached on disk) and
``LiteralIndex``, which says per message which rules' key literals occur (``prefilter``),
confirms the other factors' literals near them (``confirm``, for ``rules_due.py``) and gives
where a due pattern's literals occur (``occurrences``) for ``rules_match.find_spans``.

Split out of rules_match.py (session 20) when it passed 480 lines: this file knows hyperscan's
databases and callbacks; rules_match.py knows patterns and ``re``. Since session 21 the small
normalised-side databases (confirmation and per pattern) are matched by C literal sets on the
codes when the kernel is built (``code_set``): 861 databases of 41 MB made each scan start cold.
Why literal mode and not hyperscan's regex start-of-match mode is in rules_match.py's docstring.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from functools import reduce
from operator import or_
from pathlib import Path

import numpy as np

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import NATIVE, Normalised
from fenghuo.checks.rules_match import PatternPlan
from fenghuo.checks.rules_message import Message

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None


def dbs_key(groups: list[tuple[list[bytes], list[int], list[int]]]) -> str:
    """``load_dbs``' content hash of the groups (hashlib, not ``hash()``: the same key in every
    process); ~0.1 s for the shipped rules, so ``LiteralIndex`` keeps it."""
    h = hashlib.sha256(f"rules-literal|{hyperscan.__version__}".encode())
    for exprs, ids, flags in groups:
        h.update(f"|{len(exprs)}|{ids}|{flags}".encode())
        for e in exprs:
            h.update(len(e).to_bytes(4, "little") + e)
    return h.hexdigest()[:24]


def load_dbs(groups: list[tuple[list[bytes], list[int], list[int]]], cache_dir: Path | None, key: str | None = None) -> list:
    """Literal databases, one per (expressions, ids, flags) group (None for an empty group),
    cached together on disk under ``dbs_key(groups)`` (``key`` when the caller has it), since
    compiling them all takes a few hundred ms."""
    cached = None
    if cache_dir is not None:
        cached = cache_dir / f"rules-{key or dbs_key(groups)}.hsdbs"
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


HIT_BITS = 20  # a prefilter hit is ``position << HIT_BITS | literal id``
HIT_MASK = (1 << HIT_BITS) - 1

# The C literal sets (``_textnative.CodeSet``; why in its comment): the confirmation and
# pattern databases of the normalised side are matched on the message's codes by them when the
# kernel is built, else by hyperscan (FENGHUO_NATIVE=0); tests/checks/test_rules_native.py
# holds the two equal. The three-byte form is the quad code's last three bytes (``pack3``).
_CODESET = getattr(NATIVE, "CodeSet", None) if sys.byteorder == "little" else None


def code_set(exprs: list[bytes], flags: list[int] | None = None, native=None):
    """A ``CodeSet`` of the three-byte literals ``exprs`` (ids 0, 1, …, as their database's),
    or None: no kernel, a caseless literal, or bytes that are not whole characters."""
    native = native or _CODESET
    if native is None or not exprs or reduce(or_, flags or (), 0) & hyperscan.HS_FLAG_CASELESS:
        return None
    # The lengths in one array (~1,200 sets of ~190,000 literals are made at every load).
    lengths = np.fromiter(map(len, exprs), np.int64, len(exprs))
    if not lengths.all() or (lengths % 3).any():
        return None
    # Back to quad codes: the byte ``pack3`` dropped is 0x80 in every code (normalize_table.
    # encode_quad; tests/checks/test_rules_native.py checks it for every code point).
    a = np.frombuffer(b"".join(exprs), np.uint8).reshape(-1, 3).astype(np.uint32)
    codes = 0x80 | a[:, 0] << 8 | a[:, 1] << 16 | a[:, 2] << 24
    return native(codes, (lengths // 3).tolist(), list(range(len(exprs))))


def message_codes(n: Normalised) -> np.ndarray:
    """The codes as ``CodeSet.find`` reads them: contiguous uint32 (as the normaliser makes them)."""
    c = n.codes
    return c if c.dtype == np.uint32 and c.flags.c_contiguous else np.ascontiguousarray(c, np.uint32)


def on_norm_literal(i: int, _frm: int, to: int, _flags: int, hits: list[int]) -> None:
    # Public: ``rules_due.due_rules`` scans with it too (its inlined ``confirm``, for speed).
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
            # character boundary); the normalised side's three-byte form can (on_norm_literal).
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
        confirm_norm_side: list[bool] = []  # per database: of the normalised side
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
                    confirm_norm_side.append(side == "norm")
                    self.confirm_factor.append(fac)
                    self.confirm_lengths.append([len(x) // 3 if side == "norm" else 0 for x in exprs])
            self.confirm_of[rule] = tuple(got)
            if len(got) == 1 and got[0][0] == "norm":
                self.confirm_norm[rule] = got[0][1]
            self.confirm_size[rule] = len(mine)
        # What the databases and C sets are built from, kept until the state is stored, so that
        # one read back from the disk cache (``rules_cache.py``, which pickles this object without
        # the databases) can build them again without the normaliser's encoding of every literal;
        # ``rules_compile.compile_rules`` then releases them (``release_literals``).
        self._groups, self._n_groups, self._norm_side = groups + own, len(groups), confirm_norm_side
        self._dbs_key = dbs_key(self._groups)
        self.attach(cache_dir)

    def attach(self, cache_dir: Path | None) -> None:
        """Build (or read from ``cache_dir``: ``load_dbs``) the hyperscan databases and the C
        literal sets from the literals kept at construction: what ``__init__`` ends with, and
        what a state unpickled by ``rules_cache`` is given before use."""
        groups, n = self._groups, self._n_groups
        dbs = load_dbs(groups, cache_dir, self._dbs_key)
        self.pre_norm, self.pre_orig = dbs[:2]
        self.confirm_dbs = dbs[2:n]
        self.dbs = dbs[n:]
        # The normalised side's small sets in C when built (``code_set``), else None per database.
        self.confirm_sets = [code_set(e, f) if norm else None for (e, _, f), norm in zip(groups[2:n], self._norm_side)]
        self.sets = [code_set(e, f) if plan.side == "norm" else None for (e, _, f), plan in zip(groups[n:], self.plans)]

    # Pickling (``rules_cache.py``): the databases, C sets and per-thread scratches are not data
    # but handles; ``attach`` makes them again.
    _HANDLES = ("_local", "pre_norm", "pre_orig", "confirm_dbs", "dbs", "confirm_sets", "sets")

    def __getstate__(self) -> dict:
        if self._groups is None:
            raise TypeError("a LiteralIndex whose literals were released cannot be stored")
        return {k: v for k, v in self.__dict__.items() if k not in self._HANDLES}

    def release_literals(self) -> None:
        """Drop the literals kept for ``attach`` and the disk cache (~25 MB of bytes objects for
        the shipped rules) once the databases are made and the state stored: a scan never reads
        them."""
        self._groups = None

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

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
                    pn.scan(pack3(n.codes), on_norm_literal, 0, hits, pre[0])  # positional: see matcher.scan_packed
            elif packed:
                pn.scan(packed, on_norm_literal, 0, hits, pre[0])
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
            cs = self.confirm_sets[d]
            if not n.codes.size:
                pass
            elif cs is not None:
                hits = cs.find(message_codes(n), lo, n.codes.size if hi is None else hi, lo)
            else:
                # Bytes (3 per character): ``pack3`` gives one array element per character.
                if packed is None:
                    packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
                db.scan(packed[3 * lo : None if hi is None else 3 * hi] if lo or hi is not None else packed, on_norm_literal, 0, hits, scratch)
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
            cs = self.sets[pid]
            if cs is not None:
                codes = msg.codes()
                hits = cs.find(codes, 0, codes.size, 0)
            else:
                db.scan(msg.packed(), on_norm_literal, 0, hits, self._scratch(pid, db))
            return [(kinds[h & HIT_MASK], (h >> HIT_BITS) - lengths[h & HIT_MASK], h >> HIT_BITS) for h in hits]
        if not msg.text:
            return []
        db.scan(msg.utf8(), _on_orig_every, 0, hits, self._scratch(pid, db))
        if not hits:
            return []
        pos = msg.chars([x for h in hits for x in ((h >> HIT_BITS) - lengths[h & HIT_MASK], h >> HIT_BITS)])
        return [(kinds[h & HIT_MASK], pos[2 * j], pos[2 * j + 1]) for j, h in enumerate(hits)]
