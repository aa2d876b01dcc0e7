"""The ids of the dedup window in memory (monitor.dedup): canonical UUIDs as 16-byte keys of
the kernel's table (``_ingestuuidset.h``), any other id in a set beside it.

Why (issue 19): a Python set of str held ~190 bytes an event for the 15 minutes of the window
(the str, its set entry, its reference in the expiry list), memory touched for the first time
while the window fills: ~60 page faults a 1,000-event batch, each a page the kernel clears.
Packed, an id is ~21-43 bytes in the table plus 16 in its batch's row kept for expiry
(``Packed``), and the decoder's strs die with their batch. Guards send UUIDs, so the set beside
is nearly always empty. Without the kernel everything is in the set (the reference).

An id is a key of the table exactly when it is a canonical lowercase UUID str (``seenrows.pack``
accepts it), so "held" never depends on which side an id went to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fenghuo.monitor import seenrows


class Packed:
    """A batch's ids packed 16 bytes each (its expiry entry): reads as the list of its ids."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[str]:
        return iter(seenrows.unpack(self.data))

    def __len__(self) -> int:
        return len(self.data) // 16

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Packed):
            return self.data == other.data
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Packed({list(self)!r})"


class SeenIds:
    """A set of ids (the subset of ``set`` that ``Dedup`` uses). ``kernel``: the ingest kernel
    (``monitor.native.KERNEL``), or None for a plain set."""

    def __init__(self, kernel: Any = None) -> None:
        self.kernel = kernel
        self.table = kernel.UuidSet() if kernel is not None else None
        self.other: set = set()

    def admit(self, ids: list[str]) -> tuple[list[bool] | None, bytes | None]:
        """Add each id (a list of str; TypeError otherwise, nothing added): each id's answer
        (None: all fresh) and the ids packed when every one is a UUID (else None)."""
        return self.table.admit(ids, self.other)  # type: ignore[union-attr]

    def _keys(self, ids: list) -> bytes | None:
        return self.kernel.pack_uuids(ids) if self.table is not None and type(ids) is list else None

    def update(self, ids: Iterable) -> None:
        ids = ids if type(ids) is list else list(ids)
        packed = self._keys(ids)
        if packed is not None:
            self.table.add_packed(packed)  # type: ignore[union-attr]
        elif self.table is None:
            self.other.update(ids)
        else:
            for i in ids:
                key = self._keys([i])
                if key is not None:
                    self.table.add_packed(key)
                else:
                    self.other.add(i)

    def add_packed(self, data: bytes) -> None:
        if self.table is not None:
            self.table.add_packed(data)
        else:
            self.other.update(seenrows.unpack(data))

    def difference_update(self, ids: Iterable) -> None:
        if isinstance(ids, Packed):
            if self.table is not None:
                self.table.discard_packed(ids.data)
                return
            ids = list(ids)
        ids = ids if type(ids) is list else list(ids)
        packed = self._keys(ids)
        if packed is not None:
            self.table.discard_packed(packed)  # type: ignore[union-attr]
        elif self.table is None:
            self.other.difference_update(ids)
        else:
            for i in ids:
                key = self._keys([i])
                if key is not None:
                    self.table.discard_packed(key)
                else:
                    self.other.discard(i)

    def __contains__(self, i: object) -> bool:
        if self.table is not None and type(i) is str:
            held = self.table.has(i)
            if held is not None:
                return held
        return i in self.other

    def isdisjoint(self, ids: Iterable) -> bool:
        return not any(i in self for i in ids)

    def __len__(self) -> int:
        return (len(self.table) if self.table is not None else 0) + len(self.other)

    def __iter__(self) -> Iterator:
        if self.table is not None:
            yield from seenrows.unpack(self.table.dump())
        yield from self.other

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SeenIds):
            return set(self) == set(other)
        if isinstance(other, (set, frozenset)):
            return len(self) == len(other) and set(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
