"""The ``ids`` of a ``monitor_seen`` row (the durable dedup set: monitor.dedup, scale.seen), in
either of its two forms:

- a JSON array of the ids (text): any id, every database, every row written before issue 19's
  packed form;
- the ids packed as 16 bytes each (a BLOB, SQLite only), when every id of the batch is a
  canonical lowercase UUID, which is what guards send.

Why two (issue 19): the row is written for every batch before it is counted; the JSON of 1,000
ids is 37 KB of SQLite insert, WAL and checkpoint work a batch, the packed form 16 KB. The form
is told by the value's type (``bytes`` or ``str``), so a database written before keeps working:
its JSON rows are read as they always were, and rows of both forms are read together. SQLite
keeps a BLOB in the TEXT column as it was written (type affinity converts only numbers), so no
schema change is needed; PostgreSQL keeps JSON (its column is ``text``).
"""

from __future__ import annotations

import msgspec

from fenghuo.monitor.native import KERNEL

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(list[str])
_HYPHENS = (8, 13, 18, 23)


def to_json(ids: list[str]) -> str:
    return _enc.encode(ids).decode()


def pack(ids: list[str]) -> bytes | None:
    """16 bytes per id, in order, if every id is a canonical lowercase UUID; else None."""
    if KERNEL is not None and type(ids) is list:
        return KERNEL.pack_uuids(ids)
    return pack_py(ids)


def pack_py(ids: list[str]) -> bytes | None:
    """``pack`` without the kernel (and its reference in the tests)."""
    out = bytearray()
    for i in ids:
        if type(i) is not str or len(i) != 36 or not i.isascii() or any(i[k] != "-" for k in _HYPHENS):
            return None
        h = i[:8] + i[9:13] + i[14:18] + i[19:23] + i[24:]
        if h.lower() != h:
            return None
        try:
            out += bytes.fromhex(h)
        except ValueError:
            return None
        if len(out) % 16:  # fromhex skips whitespace: not 32 hex digits
            return None
    return bytes(out)


def unpack(data: bytes) -> list[str]:
    if KERNEL is not None:
        return KERNEL.unpack_uuids(bytes(data))
    return unpack_py(data)


def unpack_py(data: bytes) -> list[str]:
    if len(data) % 16:
        raise ValueError("not a whole number of 16-byte ids")
    h = bytes(data).hex()
    return [f"{h[k:k + 8]}-{h[k + 8:k + 12]}-{h[k + 12:k + 16]}-{h[k + 16:k + 20]}-{h[k + 20:k + 32]}"
            for k in range(0, len(h), 32)]


def encode(ids: list[str]) -> bytes | str:
    """The row's value for SQLite: packed when every id is a UUID, else JSON."""
    packed = pack(ids)
    return packed if packed is not None else to_json(ids)


def decode(value: bytes | bytearray | memoryview | str) -> list[str]:
    """A row's ids, whichever form it was written in."""
    if isinstance(value, str):
        return _dec.decode(value)
    return unpack(bytes(value))
