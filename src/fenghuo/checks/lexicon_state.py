"""The lexicon check's compiled state and the helpers that build it (split from ``lexicon.py``
to keep that file readable; see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fenghuo.checks.lexicon_file import Entry, LexiconError
from fenghuo.checks.reloading import file_signature
from fenghuo.checks.resolve import B_ASCII, B_LEND, B_LSTART, B_SHORT, SHORT_LEN


@dataclass(frozen=True)
class _Compiled:
    words: list[str]  # normalised, distinct; index = pattern id
    categories: list[tuple[str, ...]]  # empty tuple = allow-list word
    bflags: np.ndarray  # int per pattern: boundary rules (``resolve.B_*``)
    lengths: list[int]  # per pattern, in normalised characters
    is_allow: np.ndarray  # bool per pattern
    templates: list[tuple]  # (category, rule, action, risk), for all patterns' categories in order
    tmpl_off: np.ndarray  # per pattern: index of its first template
    tmpl_n: np.ndarray  # per pattern: number of categories
    multi_category: bool  # some word has several categories
    engine: object
    max_len: int
    entries: list[Entry]
    mtimes: dict[str, tuple[int, int]]  # file -> file_signature when read
    # The per-pattern arrays again as lists, for ``resolve_few`` (indexing a numpy array
    # from Python costs ~10× a list).
    is_allow_list: list[bool] = field(default_factory=list)
    bflags_list: list[int] = field(default_factory=list)
    templates_by_pid: list[tuple] = field(default_factory=list)  # per pattern: its templates
    allow_ids: frozenset = frozenset()  # pattern ids of allow-list words
    spaced: dict = field(default_factory=dict)  # pattern id -> token lengths of ASCII words written with spaces
    homophones: object = None  # variants.Homophones, or None when that layer is off
    length_arr: np.ndarray | None = None  # ``lengths`` as an array
    listed: int = 0  # words from the files and config, without allow words and variants
    fused_table: np.ndarray | None = None  # ``variants.fused4`` (padded ``fused_table``), when the homophone layer is fused
    # The C kernel over the normaliser's table and ``fused_table`` (``normalize.native_kernel``),
    # or None (not built, ``FENGHUO_NATIVE=0``, or no fused table).
    kernel: object = None
    # (fused_table, engine, first homophone id, the kernel's ``fuse`` or None) for
    # ``LexiconCheck.scan``'s short-text path, looked up once per message instead of attribute
    # by attribute; None without a fused table.
    fast: tuple | None = None
    from_cache: bool = False  # planned from the disk cache (``lexicon_cache.py``), not from the files

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_allow_list", self.is_allow.tolist())
        object.__setattr__(self, "bflags_list", self.bflags.tolist())
        object.__setattr__(self, "length_arr", np.array(self.lengths, dtype=np.int64))
        object.__setattr__(self, "allow_ids", frozenset(np.flatnonzero(self.is_allow).tolist()))
        t = self.templates
        by_pid = [tuple(t[o : o + c]) for o, c in zip(self.tmpl_off.tolist(), self.tmpl_n.tolist())]
        object.__setattr__(self, "templates_by_pid", by_pid)
        if self.fused_table is not None:
            fuse = self.kernel.fuse if self.kernel is not None else None
            object.__setattr__(self, "fast", (self.fused_table, self.engine, self.homophones.base, fuse))


_READ_TRIES = 5


def _boundary_flags(word: str) -> int:
    """Which boundary rules (``resolve.B_*``) a normalised word's hits must pass."""
    if word.isascii():
        return B_ASCII if any(c.isalnum() for c in word) else 0
    f = 0
    if word[0].isascii() and word[0].isalnum():
        f |= B_LSTART
    if word[-1].isascii() and word[-1].isalnum():
        f |= B_LEND
    if len(word) <= SHORT_LEN:
        f |= B_SHORT
    return f


def _read_stable(path: Path, read) -> tuple[list[Entry], tuple[int, int]]:
    """``read(path)`` and the signature of the version it read: taken *before* reading, and
    checked again after, so a file replaced meanwhile is read again (a few times at most). If it
    keeps changing, the signature from before the last read is kept: it differs from the file
    now, so the next change check reloads it rather than keeping stale words for good."""
    for _ in range(_READ_TRIES):
        try:
            before = file_signature(path)
        except FileNotFoundError:
            raise LexiconError(f"{path}: no such lexicon file / 词表文件不存在") from None
        got = read(path)
        try:
            if file_signature(path) == before:
                break
        except OSError:  # removed right after the read: the next try says so
            pass
    return got, before
