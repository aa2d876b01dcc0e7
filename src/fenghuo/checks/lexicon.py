"""The lexicon check: normalise, match every word, drop allow-listed hits, report original spans.

Words and allow-list words are normalised with the same table as the text and compiled into
one matcher, so one scan finds both. A hit lying inside an allow-listed occurrence (``幸运`` in
``幸运儿``) is dropped. Pure ASCII words must stand on word boundaries *in the original text*
— removing spaces would otherwise turn ``an alternative`` into a hit for an English word —
and may only span whitespace when it separates single letters (``s e x``). Words with a Latin
edge need a Latin boundary there, short words (≤ 2 characters) a jieba token boundary, and a
word that normalises to a single Latin letter or digit is never matched (``resolve.py``).

The compiled state is immutable and swapped in one assignment, so ``reload()`` replaces the
lexicon under running scans without a restart and without a lock on the scan path. With
``reload_interval`` set, a scan at most every that many seconds stats the files (a few µs);
when one changed, the new lexicon is compiled on a background thread — compiling the shared
lexicon takes about a second, which must not land on a request — and swapped in when ready.
A broken edit is logged as an error (``fenghuo.checks.lexicon``) and kept in
``last_reload_error``; the old lexicon keeps serving and that version of the files is not
retried until they change again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from fenghuo.checks import variants
from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.lexicon_compile import compile_state
from fenghuo.checks.lexicon_file import (
    DEFAULT_TAG_CODES,
    Entry,
    Stats,
    lexicon_stats,
    read_lexicon,
)
from fenghuo.checks.lexicon_state import _Compiled, _read_stable
from fenghuo.checks.matcher import Hits, _on_match
from fenghuo.checks.normalize import BLOCK, Normalised, Normaliser, default_normaliser
from fenghuo.checks.policy import Policy
from fenghuo.checks.reloading import BackgroundReload, CompiledMemo, file_signature
from fenghuo.checks.resolve import FEW, resolve_few, resolve_many
from fenghuo.checks.variants import FUSED_DROP, FUSED_EXPAND

log = logging.getLogger("fenghuo.checks.lexicon")
_U4 = np.dtype(np.uint32)
IDX = np.dtype(np.intp)
_clock = time.perf_counter


_MEMO = CompiledMemo()  # see LexiconCheck._compile


class LexiconCheck(BackgroundReload):
    """Matches a user's lexicon files; thread-safe; see module docstring."""

    def __init__(
        self,
        files: list[str | Path] | None = None,
        allow_files: list[str | Path] | None = None,
        words: dict[str, tuple[str, ...]] | None = None,
        allow: list[str] | None = None,
        policy: Policy | None = None,
        tag_codes: dict[str, str] | None = None,
        engine: str = "auto",
        normaliser: Normaliser | None = None,
        cache_dir: Path | None = None,
        name: str = "lexicon",
        evasions: tuple[str, ...] | list[str] | None = variants.LAYERS,
    ) -> None:
        self.name = name
        self._names = (name,)  # ``Verdict.checks`` of every ``scan``, made once
        self.files = [Path(f) for f in files or []]
        self.allow_files = [Path(f) for f in allow_files or []]
        self.inline_words = dict(words or {})
        self.inline_allow = list(allow or [])
        unknown = set(evasions or ()) - set(variants.LAYERS)
        if unknown:
            raise ValueError(f"lexicon evasions: unknown layer(s) {', '.join(sorted(unknown))}; known: {', '.join(variants.LAYERS)} / 未知变体层")
        self.evasions = tuple(evasions or ())
        self.policy = policy or Policy()
        self.tag_codes = DEFAULT_TAG_CODES if tag_codes is None else tag_codes
        self.engine_name = engine
        self.normaliser = normaliser or default_normaliser()
        self.cache_dir = cache_dir
        self.reload_interval = 0.0  # seconds between file-change checks during scans; 0 = off
        self._init_reload()
        self._state = self._compile()

    # -- building -------------------------------------------------------------------------
    def _read(self) -> tuple[list[Entry], list[str], dict[str, float]]:
        known = set(self.policy.rules)
        entries: list[Entry] = []
        mtimes: dict[str, tuple[int, int]] = {}
        for f in self.files:
            got, mtimes[str(f)] = _read_stable(f, lambda p: read_lexicon(p, self.tag_codes, known))
            entries += got
        for i, (w, cats) in enumerate(self.inline_words.items(), 1):
            entries.append(Entry(w, tuple(cats), "<config>", i))
        allow = list(self.inline_allow)
        for f in self.allow_files:
            got, mtimes[str(f)] = _read_stable(f, lambda p: read_lexicon(p, {}, set(), tagged=False))
            allow += [e.word for e in got]
        return entries, allow, mtimes

    def _memo_key(self) -> tuple | None:
        """Everything a compiled state depends on, or None when a file cannot be stat'ed (the
        compile then reports it)."""
        try:
            sigs = tuple((str(f), file_signature(f)) for f in self.files + self.allow_files)
        except OSError:
            return None
        return (
            sigs, tuple((w, tuple(c)) for w, c in self.inline_words.items()), tuple(self.inline_allow),
            tuple(sorted(self.policy.rules.items())), self.policy.default, tuple(sorted(self.tag_codes.items())),
            self.engine_name, self.normaliser.options, self.evasions,
        )

    def _compile(self) -> _Compiled:
        """The compiled state, shared with any other check of this process built from the same
        files (same signatures) and options: it is immutable, and compiling the shipped
        lexicon costs ~2 s CPU even with the matcher cache (reading, variants) — paid per
        check, per test and per reload otherwise."""
        return _MEMO.get(self._memo_key(), self._compile_now)

    def _compile_now(self) -> _Compiled:
        return compile_state(self)

    def reload(self) -> None:
        """Re-read the files and swap the compiled lexicon in; on error the old one stays and
        the error is raised to the caller."""
        self._state = self._compile()
        self.last_reload_error = None

    def _signatures(self) -> dict[str, tuple[int, int]]:
        return {f: file_signature(f) for f in self._state.mtimes}

    def _loaded_signatures(self) -> dict[str, tuple[int, int]]:
        return self._state.mtimes

    def _load_new(self, signatures: dict[str, tuple[int, int]]) -> None:
        self._state = self._compile()  # records the signatures of what it read

    def reload_if_changed(self) -> bool:
        """Reload now, on this thread, when a source file changed; returns whether it did.
        Raises LexiconError (keeping the old lexicon) when the changed file is broken, also
        when a background reload already failed on that version."""
        if not self.changed(retry_failed=True):
            return False
        self.reload()
        return True

    @property
    def max_len(self) -> int:
        return self._state.max_len

    @property
    def engine(self) -> str:
        return self._state.engine.name

    def __len__(self) -> int:
        return self._state.listed

    def stats(self) -> Stats:
        return lexicon_stats(self._state.entries, self.policy.risk_map(), self.normaliser.normalise_text)

    # -- scanning -------------------------------------------------------------------------
    def scan(self, text: str) -> Verdict:
        t0 = _clock()
        st = self._state
        fast = st.fast
        if fast is None or len(text) > BLOCK:
            findings = self.find_in(text, self.normaliser.normalise(text))
            return Verdict(findings, (_clock() - t0) * 1e6, (self.name,))
        # ``find_in(text, normalise(text))`` for a text of one normalisation block, without the
        # ``Normalised`` unless something matched. One gather of ``fused_table`` makes both
        # layers' bytes of every character; dropped characters are marker bytes that one
        # ``translate`` deletes (both markers found by memchr), so no kept-flags gather, no
        # boolean index and one cast of the code points to intp instead of two. 1 in 25
        # 50-character COLD cuts has a hit; the others end after the scan (docs/benchmarks.md,
        # "Short messages").
        if self.reload_interval and time.monotonic() - self._last_check > self.reload_interval:
            self.reload_when_due()
        table, eng, base, fuse = fast
        if fuse is not None:
            # The C kernel (``_textnative.c``): the same bytes as the gather and ``translate``
            # below, read straight from the str in one call (None: an expansion).
            data = fuse(text)
            raw = None
        else:
            try:
                b = text.encode("utf-32-le")
            except UnicodeEncodeError:  # a lone surrogate: kept as its own code point
                b = text.encode("utf-32-le", "surrogatepass")
            # Cast to intp here, once: ``take`` would cast uint32 indices itself, and a message
            # with a hit normalises the same code points again.
            raw = np.frombuffer(b, _U4).astype(IDX)
            # 4-byte entries (``variants.fused4``): one ``translate`` deletes their pad bytes
            # and the dropped characters.
            data = table.take(raw, axis=1).tobytes().translate(None, FUSED_DROP)
            if FUSED_EXPAND in data:
                data = None
        if data is None:  # a ①-style expansion: the general path
            findings = self._find(st, text, self.normaliser.normalise(text) if raw is None else self.normaliser.normalise_codes(raw))
        elif data:
            flat: list[int] = []
            try:
                scratch = eng._local.scratch
            except AttributeError:  # this thread's first scan
                scratch = eng._scratch()
            # Positional arguments: the binding parses keywords at ~0.5 µs a call (matcher.scan_packed).
            eng.db.scan(data, _on_match, 0, flat, scratch)
            findings = []
            if flat:
                n = self.normaliser.normalise(text) if raw is None else self.normaliser.normalise_codes(raw)
                findings = self._resolve(st, text, n, _homophone_ends(flat, base, len(data) // 6))
        else:
            findings = []
        return Verdict(findings, (_clock() - t0) * 1e6, self._names)

    def scan_normalised(self, text: str, n: Normalised) -> Verdict:
        t0 = time.perf_counter()
        findings = self.find_in(text, n)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,))

    def find_in(self, text: str, n: Normalised) -> list[Finding]:
        """Findings only (no timing, no ``Verdict``): what the pipeline calls per message."""
        if self.reload_interval and time.monotonic() - self._last_check > self.reload_interval:
            self.reload_when_due()  # a stat per file at most every interval; compiling happens off-thread
        st = self._state
        fast = st.fast
        if fast is not None and n.shift is None and n.raw is not None:
            # ``_find``'s fused branch inlined, gathering every code point (dropped ones are
            # marker bytes deleted by one ``translate``, see ``scan``) rather than indexing the
            # kept ones first. The main form (first half) is left on ``n`` for the rules check's
            # prefilter, which scans the same bytes (``Normalised.packed``).
            table, eng, base, fuse = fast
            # The C kernel reads the text itself (``n`` is its normalisation, nothing expanded).
            data = fuse(text) if fuse is not None and len(text) == n.length else None
            if data is None:
                data = table.take(n.raw, axis=1).tobytes().translate(None, FUSED_DROP)  # pads and drops (``scan``)
            if not data:
                return []
            size = len(data) // 6
            n.packed = data[: 3 * size]
            flat: list[int] = []
            try:
                scratch = eng._local.scratch
            except AttributeError:  # this thread's first scan
                scratch = eng._scratch()
            eng.db.scan(data, _on_match, 0, flat, scratch)
            if not flat:
                return []
            return self._resolve(st, text, n, _homophone_ends(flat, base, size))
        return self._find(st, text, n)

    def _find(self, st: _Compiled, text: str, n: Normalised) -> list[Finding]:
        if st.fused_table is not None and n.shift is None and n.raw is not None:
            # Nothing expanded (nearly every message): the kept code points gathered into the
            # main form followed by the homophone form, one scan for both layers.
            src = n.raw if n.kept is None else n.raw[n.kept]
            if not src.size:
                return []
            raw = st.engine.scan_packed(st.fused_table.take(src, axis=1).tobytes().translate(None, FUSED_DROP))
            if not raw:
                return []
            return self._resolve(st, text, n, _homophone_ends(raw, st.homophones.base, src.size))
        raw = st.engine.scan_raw(n.codes)
        if st.homophones is not None:
            extra = st.homophones.find(text, n, self.normaliser.tables)
            if extra:
                raw = raw + extra  # pattern ids of the main matcher: resolved like its hits
        if not raw:
            return []
        return self._resolve(st, text, n, raw)

    @staticmethod
    def _resolve(st: _Compiled, text: str, n: Normalised, raw: list[int]) -> list[Finding]:
        # A 1 KB message has a handful of hits: whole-array resolution would be ~35 numpy
        # calls (~1 µs each), so few hits take the plain-Python path (same rules, tested equal).
        if len(raw) <= 2 * FEW:
            return resolve_few(st, text, n, raw)
        return resolve_many(st, text, n, _hits(st, raw))

    def findings(self, text: str, n: Normalised | None, hits: Hits, base: int = 0, origin=None, tbase: int = 0) -> list[Finding]:
        """Resolve ``engine.find``'s arrays into findings (see ``resolve.resolve_many``)."""
        return resolve_many(self._state, text, n, hits, base, origin, tbase)


def _homophone_ends(flat: list[int], base: int, size: int) -> list[int]:
    """A fused scan's hits: those of the homophone patterns (ids from ``base``) end in the
    second half of what was scanned, ``size`` characters on."""
    for j in range(0, len(flat), 2):
        if flat[j] >= base:
            flat[j + 1] -= size
    return flat


def _hits(st: _Compiled, flat: list[int]) -> Hits:
    """A flat ``[pid, end, …]`` list as arrays; ``st.lengths`` also covers homophone ids."""
    a = np.array(flat, dtype=np.int64)
    pid, end = a[0::2], a[1::2]
    return pid, end - st.length_arr[pid], end
