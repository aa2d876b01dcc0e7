"""Compiled check states kept on disk between processes: the rules check's (``rules_cache.py``)
and the lexicon's (``lexicon_cache.py``).

``derived_cache`` keeps tables, which are arrays; a compiled state is a graph of frozen
dataclasses, tuples and sets that share objects, so it is pickled — but not with an unrestricted
pickle: the reader accepts only the classes its caller lists (a cache directory another user
could write to must not be able to run code here). The file is three header lines — ``MAGIC``
and the format, the key, the payload's sha256 — and the pickle, so a truncated, corrupt or
foreign file is noticed, reported in one warning line and rebuilt: never a crash, never a wrong
answer. Files are written to a temporary name and renamed into place (concurrent processes
never read half a file), in the derived tables' directory (``<cache>/derived/<name>-<key>.pickle``),
the newest ``derived_cache.KEEP_PER_NAME`` of a name kept.

A caller keys a state by everything it is derived from (``derived_cache.make_key``: sha256,
never ``hash()``, so the same in every process whatever its hash seed) and stores a plain dict
of its fields; handles that are not data (hyperscan databases, C kernels) are left out and made
again on load.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import io
import logging
import os
import pickle
import threading
from collections.abc import Callable
from pathlib import Path

from fenghuo.checks import derived_cache as dc

log = logging.getLogger("fenghuo.checks.cache")

MAGIC = b"fenghuo-state 1\n"
_warned = threading.Event()


class _Reader(pickle.Unpickler):
    def __init__(self, data, allowed: frozenset) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed = allowed

    def find_class(self, module: str, name: str):
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(f"class {module}.{name} not allowed in a stored state")
        return super().find_class(module, name)


class _Writer(pickle.Pickler):
    def __init__(self, f, reduce: Callable | None) -> None:
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self._reduce = reduce

    def reducer_override(self, obj):
        return self._reduce(obj) if self._reduce is not None else NotImplemented


def by_fields(*classes, then: Callable | None = None) -> Callable:
    """A ``reduce`` for ``store`` that keeps each of ``classes`` (dataclasses whose ``__init__``
    takes every field and does nothing else) as a call of the class with its field values, so it
    is read back through ``__init__`` (~0.7 µs) rather than through the ``__setstate__`` slotted
    dataclasses get, which looks the class's fields up again for every object: the lexicon's
    43,000 entries read in 0.12 s instead of 0.2 s. (Not the rules' 6,500 specs and clauses:
    measured slower that way.) Other objects go to ``then``, if given."""
    names = {c: tuple(f.name for f in dataclasses.fields(c)) for c in classes}

    def reduce(obj):
        got = names.get(type(obj))
        if got is not None:
            return type(obj), tuple([getattr(obj, n) for n in got])
        return then(obj) if then is not None else NotImplemented

    return reduce


def path_of(cache_dir: Path, name: str, key: str) -> Path:
    return Path(cache_dir) / "derived" / f"{name}-{key}.pickle"


def load(cache_dir: Path, name: str, key: str, allowed: frozenset, fields: tuple[str, ...]) -> dict | None:
    """The dict stored for ``(name, key)`` — with exactly ``fields``, built of builtins and the
    ``allowed`` (module, class) pairs — or None: none stored, or one that cannot be trusted
    (warned about; the caller compiles and stores again)."""
    path = path_of(cache_dir, name, key)
    try:
        blob = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        log.warning("state cache %s unreadable (%s); compiling / 缓存不可读，重新编译", path, exc)
        return None
    try:
        got = _decode(blob, key, allowed)
        if not isinstance(got, dict) or tuple(got) != fields:
            raise ValueError("unexpected contents")
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt, foreign, a class not allowed: all mean compile
        log.warning("state cache %s unusable (%s); compiling / 缓存文件损坏或不匹配，重新编译", path, exc)
        return None
    try:
        os.utime(path)  # "recently used", for the clean-up in ``store``
    except OSError:
        pass
    return got


def _decode(blob: bytes, key: str, allowed: frozenset):
    # Three header lines, then the pickle, read in place (slicing the blob copies it).
    a = blob.find(b"\n", len(MAGIC)) + 1
    b = blob.find(b"\n", a) + 1
    if not blob.startswith(MAGIC) or not a or not b:
        raise ValueError("not a state file of this format")
    if blob[len(MAGIC) : a - 1].decode("ascii", "replace") != key:
        raise ValueError("stored under another key")
    payload = memoryview(blob)[b:]
    if hashlib.sha256(payload).hexdigest().encode() != blob[a : b - 1]:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    # Without the cyclic collector while ~10^6 objects are made (none of them garbage): it would
    # walk the growing heap again and again (half of the read's time for the rules).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Reader(payload, allowed).load()
    finally:
        if enabled:
            gc.enable()


def store(cache_dir: Path, name: str, key: str, fields: dict, reduce: Callable | None = None) -> None:
    """Keep ``fields`` under ``(name, key)``; ``reduce``: the pickler's ``reducer_override`` (to
    store an object as something cheaper to load). A directory that cannot be written costs only
    the compile at each start, with one warning."""
    path = path_of(cache_dir, name, key)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        buf = io.BytesIO()
        _Writer(buf, reduce).dump(fields)
        payload = buf.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(MAGIC + key.encode("ascii") + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if not _warned.is_set():
            _warned.set()
            log.warning("cannot write the state cache %s: %s (checks are compiled at each start) "
                        "/ 无法写入缓存，每次启动将重新编译", path.parent, exc)
        return
    _clean(path)


def _clean(keep: Path) -> None:
    """Drop all but the newest ``derived_cache.KEEP_PER_NAME`` states of ``keep``'s name (as
    ``derived_cache`` does with its tables)."""
    prefix = keep.name.rsplit("-", 1)[0] + "-"
    try:
        same = [p for p in keep.parent.glob(prefix + "*.pickle") if p.name.rsplit("-", 1)[0] + "-" == prefix]
        same.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in same[dc.KEEP_PER_NAME :]:
            if old != keep:
                old.unlink(missing_ok=True)
    except OSError:  # another process cleaning at the same moment
        pass
