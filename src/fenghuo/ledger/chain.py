"""The hash chain itself: canonical encoding, entry hashes and verification. Pure, no I/O, so
the same code verifies the live database and an auditor's exported file.

Two entry formats verify side by side. Format 1 (entries written before issue 14) hashes the
whole entry at once. Format 2 hashes the entry's content first (``body_hash``) and chains that:
``hash = sha256(canonical({body_hash, prev_hash, seq, v: 2}))``. So an entry can be *redacted*
— replaced by ``{seq, prev_hash, body_hash, hash, redacted: true}`` — and the chain still
verifies link by link: a regulator's export shows its own entries whole and the rest as hashes,
and still proves itself against the full chain's signed checkpoint. A redacted format-1 entry
cannot be recomputed; it is counted as ``unproven``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "ts", "kind", "subject", "actor", "payload", "prev_hash")


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text kept as is.

    Payloads hold strings, integers, booleans, nulls, lists and maps; floats are avoided by the
    callers (rates are strings or integers) because float text differs between encoders.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# orjson writes canonical()'s text for str, int (64-bit), bool, None, and lists and str-keyed
# dicts of them (tests/foundation/test_fleet_bulk.py: every code point, key order, escapes) at
# ~1/8 of json.dumps' cost. Everything else is passed through to the TypeError below: a str or
# int subclass, a datetime, a dataclass, a lone surrogate, an int beyond 64 bits, a non-str key.
_PLAIN = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def canonical_plain(obj: Any) -> str:
    """``canonical`` for a value its caller knows holds no float (floats are where the two
    encoders write different text, and NaN, which json refuses, orjson writes as null): the same
    text, faster; whatever orjson does not write as plain JSON goes through ``canonical``."""
    try:
        return orjson.dumps(obj, option=_PLAIN).decode()
    except TypeError:
        return canonical(obj)


BODY_FIELDS = ("ts", "kind", "subject", "actor", "payload")


def _sha(obj: Any, encode=canonical) -> str:
    return hashlib.sha256(encode(obj).encode("utf-8")).hexdigest()


def entry_hash_v1(entry: Mapping[str, Any]) -> str:
    return _sha({k: entry[k] for k in HASHED_FIELDS})


def body_hash(entry: Mapping[str, Any]) -> str:
    return _sha({k: entry[k] for k in BODY_FIELDS})


def link_hash(seq: int, prev_hash: str, body: str, encode=canonical) -> str:
    return _sha({"body_hash": body, "prev_hash": prev_hash, "seq": seq, "v": 2}, encode)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of a new entry (format 2)."""
    return link_hash(int(entry["seq"]), entry["prev_hash"], body_hash(entry))


def entry_hash_plain(seq: int, prev_hash: str, ts: str, kind: str, subject: str, actor: str, payload: str) -> str:
    """``entry_hash`` of a new entry whose fields are given as text (and ``seq``): the same hash,
    with ``canonical_plain`` (the body and the link hold only text and integers)."""
    body = _sha({"actor": actor, "kind": kind, "payload": payload, "subject": subject, "ts": ts}, canonical_plain)
    return link_hash(seq, prev_hash, body, canonical_plain)


def hash_ok(entry: Mapping[str, Any]) -> bool:
    """Does the entry's stored hash match its content (format 2, or format 1 for older entries)?"""
    if entry.get("redacted"):
        return "body_hash" in entry and link_hash(int(entry["seq"]), entry["prev_hash"], entry["body_hash"]) == entry["hash"]
    return entry["hash"] in (entry_hash(entry), entry_hash_v1(entry))


def redact(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with its content replaced by its hash (format 2); a format-1 entry keeps only
    its link (it cannot be proven without its content)."""
    out = {"seq": entry["seq"], "prev_hash": entry["prev_hash"], "hash": entry["hash"], "redacted": True}
    if entry["hash"] == entry_hash(entry):
        out["body_hash"] = body_hash(entry)
    return out


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
    redacted: int = 0  # entries shown only as hashes (a scoped export)
    unproven: int = 0  # of those, format-1 entries whose hash could not be recomputed


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainStatus:
    """Walk entries in storage order and name the first one that was altered, removed or
    reordered. Each entry must carry the fields in ``HASHED_FIELDS`` plus ``hash``."""
    expected_seq, prev, count, redacted, unproven = 1, GENESIS, 0, 0, 0
    for e in entries:
        seq = int(e["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                return ChainStatus(False, count, expected_seq - 1, prev, ChainProblem(expected_seq, "removed", f"expected seq {expected_seq}, found {seq}"))
            return ChainStatus(False, count, expected_seq - 1, prev, ChainProblem(seq, "reordered", f"seq {seq} appears after {expected_seq - 1}"))
        if e.get("redacted"):
            redacted += 1
            if "body_hash" not in e:
                unproven += 1
            elif not hash_ok(e):
                return ChainStatus(False, count, seq - 1, prev, ChainProblem(seq, "altered", "redacted entry's hash does not match its body hash and link"))
        elif not hash_ok(e):
            return ChainStatus(False, count, seq - 1, prev, ChainProblem(seq, "altered", "stored hash does not match the entry's content"))
        if e["prev_hash"] != prev:
            return ChainStatus(False, count, seq - 1, prev, ChainProblem(seq, "broken_link", "prev_hash is not the hash of the entry before"))
        prev, expected_seq, count = e["hash"], seq + 1, count + 1
    return ChainStatus(True, count, expected_seq - 1, prev, redacted=redacted, unproven=unproven)
