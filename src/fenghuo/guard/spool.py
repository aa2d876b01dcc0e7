"""A local disk spool for telemetry the sink could not take.

Events are appended as JSON lines to ``active.jsonl``. To drain, the active file is sealed
(renamed to ``seg-<n>.jsonl``, atomic) and sealed segments are read oldest first, one batch at
a time; after each batch the sink accepted, the byte offset reached is written to
``seg-<n>.pos``, and a segment is deleted once it is all sent. So a batch is sent again only if
the process dies between the sink's answer and the offset write — the sink counts by id, so
that is a duplicate delivery, never a double count. A spool left by a previous run is drained
by the next one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class Spool:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._active = self.dir / "active.jsonl"
        self._fh = None
        nums = [int(p.stem.split("-")[1]) for p in self.dir.glob("seg-*.jsonl")]
        self._next = max(nums, default=0) + 1
        self.pending_lines = sum(self._count(p) for p in self.segments()) + self._count(self._active)

    @staticmethod
    def _count(path: Path) -> int:
        if not path.exists():
            return 0
        pos = Spool._pos(path)
        with path.open("rb") as fh:
            fh.seek(pos)
            return sum(1 for _ in fh)

    @staticmethod
    def _pos(path: Path) -> int:
        try:
            return int(path.with_suffix(".pos").read_text())
        except (OSError, ValueError):
            return 0

    def append(self, lines: list[bytes]) -> None:
        with self._lock:
            if self._fh is None:
                self._fh = self._active.open("ab")
            self._fh.write(b"".join(line + b"\n" for line in lines))
            self._fh.flush()
            self.pending_lines += len(lines)

    def segments(self) -> list[Path]:
        return sorted(self.dir.glob("seg-*.jsonl"), key=lambda p: int(p.stem.split("-")[1]))

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
                        break  # torn last line of a crashed write: never sent, dropped with the segment
                    lines.append(line[:-1])
                    end += len(line)
                    if len(lines) >= size:
                        break
            if lines:
                return seg, end, lines
            self._finish(seg)
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
