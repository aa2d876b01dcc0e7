"""The hash chain itself: canonical encoding, entry hashes and verification. Pure, no I/O, so
the same code verifies the live database and an auditor's exported file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "ts", "kind", "subject", "actor", "payload", "prev_hash")


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text kept as is.

    Payloads hold strings, integers, booleans, nulls, lists and maps; floats are avoided by the
    callers (rates are strings or integers) because float text differs between encoders.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: entry[k] for k in HASHED_FIELDS}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int  # the first entry that does not fit (or the missing sequence number)
    kind: str  # altered | removed | reordered | broken_link
    detail: str

    def describe(self) -> tuple[str, str]:
        zh = {
            "altered": "条目内容被修改",
            "removed": "条目缺失（被删除）",
            "reordered": "条目顺序被调换",
            "broken_link": "与前一条目的哈希链接断开",
        }[self.kind]
        return f"第 {self.seq} 条：{zh}（{self.detail}）", f"entry {self.seq}: {self.kind.replace('_', ' ')} ({self.detail})"


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None = None


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainStatus:
    """Walk entries in storage order and name the first one that was altered, removed or
    reordered. Each entry must carry the fields in ``HASHED_FIELDS`` plus ``hash``."""
    expected_seq, prev, count = 1, GENESIS, 0
    for e in entries:
        seq = int(e["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                return ChainStatus(False, count, expected_seq - 1, prev, ChainProblem(expected_seq, "removed", f"expected seq {expected_seq}, found {seq}"))
            return ChainStatus(False, count, expected_seq - 1, prev, ChainProblem(seq, "reordered", f"seq {seq} appears after {expected_seq - 1}"))
        if entry_hash(e) != e["hash"]:
            return ChainStatus(False, count, seq - 1, prev, ChainProblem(seq, "altered", "stored hash does not match the entry's content"))
        if e["prev_hash"] != prev:
            return ChainStatus(False, count, seq - 1, prev, ChainProblem(seq, "broken_link", "prev_hash is not the hash of the entry before"))
        prev, expected_seq, count = e["hash"], seq + 1, count + 1
    return ChainStatus(True, count, expected_seq - 1, prev)
