"""Sortable event ids (UUIDv7, RFC 9562).

Written here because the standard library gains ``uuid.uuid7`` only in Python 3.14. The 12
``rand_a`` bits carry a per-process counter within one millisecond, so ids from one guard sort
in the order they were made.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_seq = 0
# Random bits read from the OS 4 KiB at a time and handed out 8 bytes per id: one getrandom()
# system call per id was ≈ 0.5–2 µs of the gateway's per-call path (issue 19); a forked child
# drops what its parent had read, so no two processes hand out the same bytes.
_POOL = 4096
_pool = b""
_pos = 0


def _forget_pool() -> None:
    global _pool, _pos
    _pool, _pos = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


def uuid7() -> str:
    global _last_ms, _seq, _pool, _pos
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _seq += 1
            if _seq > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                ms, _seq = ms + 1, 0
        else:
            _seq = 0
        _last_ms = ms
        seq = _seq
        if _pos >= len(_pool):
            _pool, _pos = os.urandom(_POOL), 0
        rand = int.from_bytes(_pool[_pos:_pos + 8], "big") & 0x3FFF_FFFF_FFFF_FFFF
        _pos += 8
    h = f"{(ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand:032x}"
    # The canonical 8-4-4-4-12 form, spelled out: ``str(uuid.UUID(int=…))`` validates and builds
    # an object first and cost twice as much on the gateway's per-call path.
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
