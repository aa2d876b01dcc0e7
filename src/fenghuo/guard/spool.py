"""A local disk spool for telemetry the sink could not take.

Events are appended as JSON lines to ``active.jsonl``. To drain, the active file is sealed
(renamed to ``seg-<n>.jsonl``, atomic) and sealed segments are read oldest first, one batch at
a time; after each batch the sink accepted, the byte offset reached is written to
``seg-<n>.pos``, and a segment is deleted once it is all sent. So a batch is sent again only if
the process dies between the sink's answer and the offset write — the sink counts by id, so
that is a duplicate delivery, never a double count.

Crashes and leftovers:
- A crash in the middle of a write leaves a torn last line. On open, every file's torn tail is
  cut off and kept in ``<file>.torn`` for inspection (and logged), so it can neither join the
  next event into invalid JSON nor be counted as pending.
- A write that fails (disk full) is cut back to where it started, for the same reason.
- Events the sink refuses for good (not retryable) go to ``dead.jsonl`` with its answer.
- Each spool directory is held with an exclusive ``flock`` on its ``lock`` file while in use.
  A guard using the default layout (``<data dir>/spool/<service>/<instance>``, see
  :func:`default_dir`) adopts the segments of sibling directories nobody holds — an earlier
  run of the same service whose process is gone — and sends them too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS: no locking, no adoption
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_dir(service: str, instance: str) -> Path:
    """``<data dir>/spool/<service>/<instance>`` (the data dir is where the database lives)."""
    from fenghuo.platform.paths import data_dir

    return data_dir() / "spool" / _SAFE.sub("_", service) / _SAFE.sub("_", instance)


def _seg_num(p: Path) -> int:
    return int(p.stem.split("-")[1])


class SpoolBusy(ValueError):
    pass


class Spool:
    def __init__(self, directory: Path, *, adopt: bool = False) -> None:
        self.dir = Path(directory)
        self._lock = threading.Lock()
        self._active = self.dir / "active.jsonl"
        self._fh = None
        self.adopted = 0
        # Guards of one service adopting each other's spools: the service-level lock makes
        # "create my directory and lock it" and "adopt the siblings" exclusive, so a sibling
        # can never see (and take) a directory that is made but not yet locked.
        service = self._service_lock() if adopt else None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._held = self._hold(self.dir)
            if self._held is None and fcntl is not None:
                raise SpoolBusy(f"遥测落盘目录 {self.dir} 正被另一个进程使用 / telemetry spool {self.dir} is in use by another process")
            for p in [*self.segments(), self._active]:
                self._cut_torn(p)
            self._next = max((_seg_num(p) for p in self.segments()), default=0) + 1
            if adopt:
                self._adopt_siblings()
        finally:
            if service is not None:
                service.close()  # releases the flock
        self.pending_lines = sum(self._count(p) for p in self.segments()) + self._count(self._active)

    # -- opening ------------------------------------------------------------------------------
    @staticmethod
    def _hold(directory: Path):  # an open file, or None if another process holds it
        fh = (directory / "lock").open("a")
        return fh if fcntl is None else Spool._try_lock(fh)

    @staticmethod
    def _try_lock(fh):
        """``fh`` holding its exclusive lock, or None (and ``fh`` closed) if another process has it."""
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return None
        return fh

    def _service_lock(self):  # an open file holding the flock, or None
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        fh = (self.dir.parent / ".adopt.lock").open("a")
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)  # held for milliseconds: blocking is fine
        return fh

    @staticmethod
    def _hold_existing(directory: Path):
        """Lock a sibling's existing ``lock`` file; None if it has none or a live process holds it.
        (Never create one: a directory without it is not a spool anyone has given up.)"""
        try:
            fh = (directory / "lock").open("r")
        except OSError:
            return None
        if fcntl is None:
            fh.close()
            return None  # no locks: no way to tell an abandoned spool from a live one
        return Spool._try_lock(fh)

    @staticmethod
    def _cut_torn(path: Path) -> None:
        """Move a last line without its newline (a crashed write) to ``<path>.torn``."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if not size:
            return
        with path.open("rb+") as fh:
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            start = size
            while start > 0:  # find the last newline, reading backwards in blocks
                step = min(65536, start)
                fh.seek(start - step)
                block = fh.read(step)
                nl = block.rfind(b"\n")
                if nl >= 0:
                    start = start - step + nl + 1
                    break
                start -= step
            fh.seek(start)
            tail = fh.read()
            with path.with_name(path.name + ".torn").open("ab") as out:
                out.write(tail + b"\n")
            fh.truncate(start)
        log.warning("telemetry spool: torn last line of %s (%d bytes, a crashed write) set aside in %s.torn",
                    path, len(tail), path.name)

    def _adopt_siblings(self) -> None:
        """Take over the unsent events of sibling spools whose process is gone (provably: the
        sibling has a ``lock`` file and nobody holds it). Called under the service lock."""
        for sib in sorted(p for p in self.dir.parent.iterdir() if p.is_dir() and p != self.dir):
            held = self._hold_existing(sib)
            if held is None:
                continue  # a live guard holds it, or it is no spool (yet)
            try:
                moved = 0
                old = sorted(sib.glob("seg-*.jsonl"), key=_seg_num)
                if (sib / "active.jsonl").exists():
                    old.append(sib / "active.jsonl")
                for p in old:
                    self._cut_torn(p)
                    pos = p.with_suffix(".pos")
                    if pos.exists():
                        os.replace(pos, self.dir / f"seg-{self._next}.pos")
                    os.replace(p, self.dir / f"seg-{self._next}.jsonl")
                    self._next += 1
                    moved += 1
                if moved:
                    self.adopted += moved
                    log.warning("telemetry spool: adopted %d unsent segment(s) of %s (its process is gone)", moved, sib)
                (sib / "lock").unlink(missing_ok=True)
                try:
                    sib.rmdir()
                except OSError:
                    pass  # torn or dead-letter files stay there for inspection
            finally:
                held.close()

    @staticmethod
    def _count(path: Path) -> int:
        if not path.exists():
            return 0
        pos = Spool._pos(path)
        with path.open("rb") as fh:
            fh.seek(pos)
            return sum(1 for line in fh if line.endswith(b"\n"))

    @staticmethod
    def _pos(path: Path) -> int:
        try:
            return int(path.with_suffix(".pos").read_text())
        except (OSError, ValueError):
            return 0

    # -- writing ------------------------------------------------------------------------------
    def append(self, lines: list[bytes]) -> None:
        """Add lines; raises OSError if the disk refuses (nothing half-written is left)."""
        with self._lock:
            if self._fh is None:
                self._fh = self._active.open("ab")
            start = self._fh.tell()
            try:
                self._fh.write(b"".join(line + b"\n" for line in lines))
                self._fh.flush()
            except OSError:
                try:
                    self._fh.truncate(start)
                finally:
                    self._fh.close()
                    self._fh = None
                raise
            self.pending_lines += len(lines)

    def dead_letter(self, lines: list[bytes], reason: str) -> None:
        """Keep events the sink refused for good, with its answer, in ``dead.jsonl``."""
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        out = "".join(json.dumps({"at": at, "reason": reason, "line": line.decode("utf-8", "replace")}, ensure_ascii=False) + "\n"
                      for line in lines)
        with self._lock, (self.dir / "dead.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(out)

    # -- draining -----------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        return sorted(self.dir.glob("seg-*.jsonl"), key=_seg_num)

    def seal(self) -> None:
        """Close the active file into a numbered segment so it can be drained."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._active.exists() and self._active.stat().st_size:
                os.replace(self._active, self.dir / f"seg-{self._next}.jsonl")
                self._next += 1

    def next_batch(self, size: int) -> tuple[Path, int, list[bytes]] | None:
        """The oldest unsent lines: (segment, offset after them, lines); None when empty."""
        for seg in self.segments():
            pos = self._pos(seg)
            lines, end = [], pos
            with seg.open("rb") as fh:
                fh.seek(pos)
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # cannot happen after _cut_torn; never send a partial line
                    lines.append(line[:-1])
                    end += len(line)
                    if len(lines) >= size:
                        break
            if lines:
                return seg, end, lines
            self._finish(seg)
        with self._lock:
            if self._fh is None and not (self._active.exists() and self._active.stat().st_size):
                self.pending_lines = 0  # nothing left on disk: whatever the count said is gone
        return None

    def commit(self, seg: Path, end: int, count: int) -> None:
        """The sink took the lines up to ``end``: remember, and delete a finished segment."""
        with self._lock:
            self.pending_lines = max(self.pending_lines - count, 0)
        if end >= seg.stat().st_size:
            self._finish(seg)
        else:
            tmp = seg.with_suffix(".pos.tmp")
            tmp.write_text(str(end))
            os.replace(tmp, seg.with_suffix(".pos"))

    def _finish(self, seg: Path) -> None:
        seg.unlink(missing_ok=True)
        seg.with_suffix(".pos").unlink(missing_ok=True)

    @property
    def empty(self) -> bool:
        return self.pending_lines == 0

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._held is not None:
                try:
                    if self.pending_lines == 0 and [p.name for p in self.dir.iterdir()] == ["lock"]:
                        # Nothing left behind: remove the directory, so guards with a fresh
                        # instance id per run do not leave one empty directory each.
                        (self.dir / "lock").unlink(missing_ok=True)
                        self.dir.rmdir()
                except OSError:
                    pass  # gone or unreadable: nothing to tidy
                self._held.close()  # releases the flock
                self._held = None
