"""Tables the checks derive from their inputs, kept on disk between processes.

Every process that loads the shipped checks used to rebuild the same tables: the normaliser's
per-code-point table (NFKC, case, traditional → simplified; ~0.2 s), pypinyin's readings folded
for the evasion layers (~0.5 s), the lexicon's fused table (~0.2 s) and its pinyin and split
variants (~0.5 s). Together that was about half of what ``fenghuo scan`` spent before its first
message. Built once, they load in milliseconds.

A table is stored under a key made from everything it is derived from — the source files of
the code that builds it, the data files it reads, library versions and the options — so a
changed input never reads a stale table: it just misses. Files are NumPy ``.npz`` archives read
with ``allow_pickle=False`` (a cache directory another user could write to must not be able to
run code here), written to a temporary name and renamed into place (concurrent processes never
read half a file). An unreadable, foreign or truncated file is rebuilt; a directory that cannot
be written costs only the rebuild, with one warning.

The directory is ``FENGHUO_CACHE_DIR`` if set, else ``cache/`` under the data directory (the
same place as the compiled matcher databases); ``FENGHUO_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger("fenghuo.checks.cache")

# Tables of one name kept per directory: the newest few, so switching between two versions
# (a branch and main, two deployments) does not rebuild each time, and old ones do not pile up.
KEEP_PER_NAME = 3
_warned = threading.Event()


def cache_dir() -> Path | None:
    """Where derived tables live, or None when caching is off."""
    env = os.environ.get("FENGHUO_CACHE_DIR")
    if env is not None and env.strip().lower() in ("off", "0", "none", ""):
        return None
    if env:
        return Path(env)
    from fenghuo.platform.paths import data_dir

    return data_dir() / "cache"


@lru_cache(maxsize=64)
def source_digest(path: str) -> str:
    """sha256 of a file's bytes (a module's source, a data file), read once per process."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_key(*parts: object) -> str:
    """A key from ``parts``' text: file digests, versions, options (their ``repr``, which must not
    depend on the hash seed — pass sorted tuples, not sets)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:40]


def load_or_build(name: str, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays stored for ``(name, key)``, or ``build()``'s, stored for next time."""
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / "derived" / f"{name}-{key}.npz"
    got = _load(path)
    if got is not None:
        return got
    arrays = build()
    _store(path, arrays)
    return arrays


def _load(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception as exc:  # noqa: BLE001 - truncated, foreign, an object array: any of it means rebuild
        log.warning("derived-table cache %s unreadable (%s); rebuilding / 缓存文件不可读，重新生成", path, exc)
        return None
    try:
        os.utime(path)  # "recently used", for the clean-up in ``_store``
    except OSError:
        pass
    return arrays


def _store(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # the directory itself is missing or not a directory
            pass
        if not _warned.is_set():
            _warned.set()
            log.warning("cannot write the derived-table cache %s: %s (tables are rebuilt at each start) "
                        "/ 无法写入缓存，每次启动将重新生成", path.parent, exc)
        return
    _clean(path)


def _clean(keep: Path) -> None:
    """Drop all but the newest ``KEEP_PER_NAME`` tables of ``keep``'s name."""
    prefix = keep.name.rsplit("-", 1)[0] + "-"
    try:
        same = [p for p in keep.parent.glob(prefix + "*.npz") if p.name.rsplit("-", 1)[0] + "-" == prefix]
        same.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in same[KEEP_PER_NAME:]:
            if old != keep:
                old.unlink(missing_ok=True)
    except OSError:  # another process cleaning at the same moment
        pass


def strings_to_array(items: list[str]) -> np.ndarray:
    """A list of strings as a fixed-width unicode array (storable without pickle)."""
    return np.array(items, dtype=str) if items else np.zeros(0, dtype="<U1")


def ragged_to_arrays(rows: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Tuples of ints of varying length as (flat values, lengths)."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    flat = np.array([x for r in rows for x in r], dtype=np.int64)
    return flat, lengths


def arrays_to_ragged(flat: np.ndarray, lengths: np.ndarray) -> list[tuple[int, ...]]:
    values = flat.tolist()
    out, at = [], 0
    for n in lengths.tolist():
        out.append(tuple(values[at : at + n]))
        at += n
    return out
