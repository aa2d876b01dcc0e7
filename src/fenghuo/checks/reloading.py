"""Reloading a check's source files off the request thread, shared by the lexicon and the
classifier.

A scan notices a changed file (a stat, about a microsecond) and starts one background load;
the new version replaces the old with one assignment when it is ready, so no request waits for
a 64k-word compile or a model load. A file that fails to load is logged and kept in
``last_reload_error``; the old version keeps serving, and that same broken version of the files
is not tried again until it changes once more.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

log = logging.getLogger("fenghuo.checks.reload")


def file_signature(path: str | Path) -> tuple[int, int]:
    """Modification time and size: what tells a replaced file from the one that was loaded."""
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


class CompiledMemo:
    """The compiled states of checks' source files, shared by the checks of one process built from
    the same files (same ``file_signature``s) and options. A state is immutable, and compiling the
    shipped lexicon or rules costs seconds of CPU — paid per check, per test and per reload
    otherwise. The ``size`` most recently used states are kept; a changed file has another key."""

    def __init__(self, size: int = 3) -> None:
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable | None, build: Callable[[], Any]) -> Any:
        """The state for ``key``, or ``build()``'s, kept under it. ``key`` None (a file that
        cannot be stat'ed): built each time, so the build reports what is wrong."""
        if key is None:
            return build()
        with self._lock:
            got = self._items.get(key)
            if got is not None:
                self._items.move_to_end(key)
                return got
        state = build()
        with self._lock:
            self._items[key] = state
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return state


class BackgroundReload:
    """Mixin. A subclass sets ``name``, calls ``_init_reload()`` and implements
    ``_signatures()`` (the source files as they are now; raises OSError while one is missing),
    ``_loaded_signatures()`` (as they were when loaded) and ``_load_new(signatures)`` (build the
    new version and install it; raises to keep the old one)."""

    name: str
    reload_interval: float  # seconds between file checks during scans; 0 = off

    def _init_reload(self) -> None:
        self._last_check = time.monotonic()
        self._reload_lock = threading.Lock()  # one background load at a time
        self._reloader: threading.Thread | None = None
        self._tried: Any = None  # signatures of the last version that failed to load
        self.last_reload_error: str | None = None

    def _signatures(self) -> Any:
        raise NotImplementedError

    def _loaded_signatures(self) -> Any:
        raise NotImplementedError

    def _load_new(self, signatures: Any) -> None:
        raise NotImplementedError

    def changed(self, retry_failed: bool = False) -> bool:
        """Whether a source file differs from the loaded version and (unless ``retry_failed``:
        a caller that reloads synchronously and wants the error) from a failed attempt."""
        try:
            now = self._signatures()
        except OSError:  # mid-replacement or removed: keep what we have
            return False
        return now != self._loaded_signatures() and (retry_failed or now != self._tried)

    def reload_when_due(self) -> None:
        """Called by a scan when ``reload_interval`` is set: at most that often, a stat per file
        and, if one changed, a background load (the scan itself never waits for it)."""
        now = time.monotonic()
        if now - self._last_check > self.reload_interval:
            self._last_check = now
            self.reload_in_background()

    def reload_in_background(self) -> threading.Thread | None:
        """Start loading the changed files on a daemon thread; the thread (to join), or None when
        nothing changed or a load is already running."""
        if not self.changed() or not self._reload_lock.acquire(blocking=False):
            return None
        t = threading.Thread(target=self._background_reload, name=f"{self.name}-reload", daemon=True)
        self._reloader = t
        t.start()
        return t

    def _background_reload(self) -> None:
        signatures = None
        try:
            signatures = self._signatures()
            self._load_new(signatures)
        except Exception as exc:  # noqa: BLE001 - any failure: keep serving the old version, say why
            self._tried = signatures
            self.last_reload_error = f"{type(exc).__name__}: {exc}"
            log.error("%s: reload failed, keeping the previous version / 重新加载失败，继续使用旧版本: %s", self.name, self.last_reload_error)
        else:
            self._tried, self.last_reload_error = None, None
            log.info("%s: reloaded / 已重新加载", self.name)
        finally:
            self._reload_lock.release()
