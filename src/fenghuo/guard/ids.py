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


def uuid7() -> str:
    global _last_ms, _seq
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
    rand = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    h = f"{(ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand:032x}"
    # The canonical 8-4-4-4-12 form, spelled out: ``str(uuid.UUID(int=…))`` validates and builds
    # an object first and cost twice as much on the gateway's per-call path.
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
