"""Multi-pattern matching over normalised code points: every occurrence of every word.

The engine was chosen by measurement (docs/checks.md, bench/bench_checks.py): hyperscan's
literal matcher scans ~4× faster than ahocorasick-rs and ~25× faster than pyahocorasick on the
shared lexicon. ahocorasick-rs is the fallback where hyperscan has no wheel.

Why a private byte encoding for hyperscan: the Python binding passes literals as C strings, so
a pattern may not contain NUL — which rules out UTF-32/UTF-16 — while UTF-8 makes byte offsets
differ from character offsets, and converting them back costs a pass over the text. The
normalisation table already yields each character as four bytes with the high bit set
(``normalize.encode_quad``), one of them constant; the matcher drops that one (``pack3``,
one copy) and scans three bytes per character: no NUL, fixed width, so a match ending at byte
``e`` ends at character ``e // 3``. Three bytes rather than four: hyperscan's time grows with
the bytes scanned — measured 107 vs 200 ms CPU per 20 MB of COLD, against 21 ms for the copy
(per 1 KB message 4.3 vs 8.1 µs, copy 2 µs). Matches that do not end on a character boundary
(possible with a fixed-width code; none on COLD) are discarded; since hyperscan reports all
overlapping matches, the aligned ones are all still seen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from fenghuo.checks.normalize import decode_quad, encode_quad

try:  # pragma: no cover - which branch runs depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

try:  # pragma: no cover
    import ahocorasick_rs
except ImportError:  # pragma: no cover
    ahocorasick_rs = None


log = logging.getLogger("fenghuo.checks.lexicon")

WIDTH = 3
# Compiled databases kept in the cache directory: the most recently used ones (a deployment
# with a few lexicon checks, each with a main and a homophone matcher, plus the previous
# version of an edited lexicon); older ones are
# removed whenever a new one is written, so edits and upgrades do not pile up 6 MB files.
CACHE_KEEP = 6
_TMP_MAX_AGE = 3600.0  # seconds; a .tmp older than this was left by a killed writer
# The three varying bytes of each 4-byte code, as one 3-byte field (the constant byte is the
# least significant one: first in memory on little-endian machines, last on big-endian).
_OFF3 = 1 if sys.byteorder == "little" else 0
_V3 = np.dtype({"names": ["b"], "formats": ["V3"], "offsets": [_OFF3], "itemsize": 4})
_B3 = np.dtype("V3")
_U4 = np.dtype(np.uint32)

# What every engine's ``find`` returns: three int64 arrays (pattern id, start, end), in
# normalised character positions, in no particular order.
Hits = tuple[np.ndarray, np.ndarray, np.ndarray]
EMPTY: Hits = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))


def _codes(word: str) -> np.ndarray:
    return encode_quad(np.frombuffer(word.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))


def encode_patterns(words: list[str]) -> list[bytes]:
    """Every word in the 3-bytes-per-character form, encoded in one numpy pass and then cut
    (per word it was ~1 s for the shared lexicon, most of the start-up after a cache hit)."""
    if not words:
        return []
    packed = pack3(_codes("".join(words))).tobytes()
    out, pos = [], 0
    for w in words:
        end = pos + WIDTH * len(w)
        out.append(packed[pos:end])
        pos = end
    return out


def pack3(codes: np.ndarray) -> np.ndarray:
    """Normalised 4-byte codes → the 3-bytes-per-character form hyperscan scans (one copy;
    a structured-dtype view copies 2.3× faster than slicing a (n, 4) byte view; ``.copy()``
    rather than a second ``ascontiguousarray``: 2.4 -> 2.05 µs per 1 KB message)."""
    # A strided 3-byte view made with the ndarray constructor rather than a structured-dtype
    # field (``view(_V3)["b"]``): 0.85 -> 0.61 µs per 50-character message, same bytes.
    codes = np.ascontiguousarray(codes, _U4)
    if not codes.size:
        return np.empty(0, _B3)
    return np.ndarray((codes.size,), _B3, codes, _OFF3, (4,)).copy()


# The homophone layer's form (``variants.Homophones``): the same three bytes per character, but
# the first one moved from 0x80..0x83 (the Basic Multilingual Plane, where every homophone
# pattern lies) to 0xD0..0xD3, and any other character (astral, or a dropped/expanded marker)
# one sentinel no pattern contains. The main form's first byte is 0x80..0xC3 (0xFF for a
# marker), so no main word can match text in this form nor a homophone pattern text in the
# main form: both pattern sets live in one database, and one scan over the main form followed
# by the homophone form finds both (two ``db.scan`` calls cost ~0.6 µs more per 50-character
# message than one over twice the bytes).
HOMOPHONE_SHIFT = 0x50
_SENTINEL = (0xEF, 0x80, 0x80)


def homophone_form(packed: np.ndarray) -> np.ndarray:
    """3-bytes-per-character main form (``pack3``'s output) → the homophone form (a copy)."""
    b = np.frombuffer(np.ascontiguousarray(packed).tobytes(), np.uint8).reshape(-1, WIDTH).copy()
    bmp = b[:, 0] <= 0x83
    b[bmp, 0] ^= HOMOPHONE_SHIFT
    b[~bmp] = _SENTINEL
    return b.reshape(-1).view(_B3)


def _on_match(pid: int, _from: int, to: int, _flags: int, flat: list[int]) -> None:
    """``HyperscanEngine.scan_packed``'s callback: a match ending on a character boundary."""
    if not to % 3:
        flat.append(pid)
        flat.append(to // 3)


class _Engine:
    """What both engines share: ``scan_raw`` gives a flat [pattern id, end, …] list;
    ``lengths`` holds each pattern's length in normalised characters."""

    lengths: np.ndarray

    def scan_raw(self, codes: np.ndarray) -> list[int]:
        raise NotImplementedError

    def hits(self, flat: list[int]) -> Hits:
        """``scan_raw``'s list as (pattern ids, starts, ends) arrays."""
        if not flat:
            return EMPTY
        a = np.array(flat, dtype=np.int64)
        pid, end = a[0::2], a[1::2]
        return pid, end - self.lengths[pid], end

    def find(self, codes: np.ndarray) -> Hits:
        """All occurrences as (pattern ids, starts, ends) in normalised character positions."""
        return self.hits(self.scan_raw(codes))


class HyperscanEngine(_Engine):
    name = "hyperscan"

    def __init__(self, words: list[str], cache_dir: Path | None = None, extra: list[bytes] = ()) -> None:
        """``extra``: more patterns already in byte form (the homophone layer's, ``homophone_form``),
        with ids following the words'; ``lengths`` covers the words only."""
        self.lengths = np.array([len(w) for w in words], dtype=np.int64)
        patterns = encode_patterns(words) + list(extra)
        self.db = self._load_or_compile(patterns, cache_dir)
        # A scratch space per thread: hyperscan scratch may not be shared by concurrent scans.
        self._local = threading.local()

    @staticmethod
    def _load_or_compile(patterns: list[bytes], cache_dir: Path | None):
        cached = cache_dir / f"lexicon-{cache_key(patterns)}.hsdb" if cache_dir else None
        if cached is not None and cached.exists():
            try:
                db = hyperscan.loadb(cached.read_bytes(), mode=hyperscan.HS_MODE_BLOCK)
                os.utime(cached)  # "recently used", for the clean-up below
                return db
            except Exception:  # noqa: BLE001 - a stale or foreign cache file (any load error): rebuild below
                pass
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), literal=True)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                # A name of its own per writer: two processes starting at once must not
                # interleave their writes into one temporary file.
                tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_bytes(hyperscan.dumpb(db))
                tmp.replace(cached)
                clean_cache(cache_dir, keep=cached)
            except OSError as exc:
                log.warning("could not write the lexicon cache %s: %s / 无法写入词表缓存", cached, exc)
        return db

    def _scratch(self):
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.db)
        return scratch

    def scan_raw(self, codes: np.ndarray) -> list[int]:
        """All occurrences as a flat ``[pid, end, pid, end, …]`` list, ends in characters.

        The binding calls back into Python once per match and has no bulk API, so the
        callback does the least possible (two list appends: measured fastest of tuple append,
        ``array.array`` and bit-packing). A match not ending on a character boundary (rare;
        possible with a fixed-width code) is not a word and is skipped.
        """
        if codes.size == 0:
            return []
        return self.scan_packed(pack3(codes))

    def scan_packed(self, packed) -> list[int]:
        """``scan_raw`` of text already in the 3-bytes-per-character form (``pack3``'s output,
        or a gather from a table stored in that form: ``variants.composed3``)."""
        flat: list[int] = []
        # The array itself is passed (buffer protocol): no ``tobytes()`` copy. The list goes in
        # as hyperscan's context to one module-level callback rather than a closure made per
        # call: 1.09 -> 0.90 µs per 50-character message (timeit, 100 COLD cuts).
        # Positional arguments (data, callback, flags, context, scratch): the binding's keyword
        # parsing measured ~0.5 µs a call, as much as scanning a 50-character message.
        self.db.scan(packed, _on_match, 0, flat, self._scratch())
        return flat


class AhoCorasickEngine(_Engine):
    name = "ahocorasick-rs"

    def __init__(self, words: list[str], cache_dir: Path | None = None, extra: list[bytes] = ()) -> None:
        if extra:
            raise ValueError("ahocorasick-rs engine: extra byte patterns are not supported")
        self.ac = ahocorasick_rs.AhoCorasick(words)
        self.lengths = np.array([len(w) for w in words], dtype=np.int64)

    def scan_raw(self, codes: np.ndarray) -> list[int]:
        if codes.size == 0:
            return []
        text = decode_quad(codes).tobytes().decode("utf-32-le", "surrogatepass")
        return [x for pid, _, end in self.ac.find_matches_as_indexes(text, overlapping=True) for x in (pid, end)]


def cache_key(patterns: list[bytes]) -> str:
    """A digest of everything the compiled database depends on: the patterns in order, the
    hyperscan version and the encoding width. ``hashlib``, never ``hash()``: the key must be
    the same in every process (``hash`` of str/bytes is salted per process by PYTHONHASHSEED)."""
    h = hashlib.sha256()
    h.update(f"hyperscan {hyperscan.__version__} width {WIDTH} n {len(patterns)}\n".encode())
    for p in patterns:  # length-prefixed: no two pattern lists give the same byte stream
        h.update(len(p).to_bytes(4, "little"))
        h.update(p)
    return h.hexdigest()[:32]


def clean_cache(cache_dir: Path, keep: Path | None = None, limit: int | None = None) -> list[Path]:
    """Remove all but the ``limit`` most recently used ``lexicon-*.hsdb`` files (never ``keep``)
    and temporary files left by killed writers; returns what was removed."""
    limit = CACHE_KEEP if limit is None else limit
    now = time.time()
    removed: list[Path] = []
    try:
        dbs = sorted(cache_dir.glob("lexicon-*.hsdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        tmps = [p for p in cache_dir.glob("lexicon-*.tmp") if now - p.stat().st_mtime > _TMP_MAX_AGE]
    except OSError:  # another process removed a file between glob and stat: next time
        return removed
    for p in [p for p in dbs if p != keep][max(limit - 1, 0) :] + tmps:
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


ENGINES = {"hyperscan": HyperscanEngine, "ahocorasick-rs": AhoCorasickEngine}


def engine_kind(engine: str = "auto") -> str:
    """The engine ``make_engine`` builds for this name."""
    if engine == "auto":
        return "hyperscan" if hyperscan is not None else "ahocorasick-rs"
    return engine


def make_engine(words: list[str], engine: str = "auto", cache_dir: Path | None = None, extra: list[bytes] = ()):
    """Build the fastest available engine, or the one named (``extra``: hyperscan only)."""
    if engine == "auto":
        engine = "hyperscan" if hyperscan is not None else "ahocorasick-rs"
    if engine not in ENGINES:
        raise ValueError(f"unknown matcher engine {engine!r}; choose one of {', '.join(ENGINES)} / 未知匹配引擎")
    if engine == "hyperscan" and hyperscan is None:
        raise ValueError("engine 'hyperscan' requested but the hyperscan package is not installed / 未安装 hyperscan")
    if engine == "ahocorasick-rs" and ahocorasick_rs is None:
        raise ValueError("engine 'ahocorasick-rs' requested but it is not installed / 未安装 ahocorasick-rs")
    return ENGINES[engine](words, cache_dir, extra)
