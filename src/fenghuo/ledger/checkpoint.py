"""Signed checkpoints: what a plain hash chain cannot prove on its own.

A chain shows that nothing inside it changed, but not that its newest rows were deleted or
that the whole chain was rewritten and re-hashed. A checkpoint — sequence number and head hash
signed with the deployment's Ed25519 key — kept by an auditor or regulator pins the chain:
a later ledger must still contain that entry with that hash.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fenghuo.ledger.chain import canonical, verify_chain
from fenghuo.platform import keys
from fenghuo.platform.errors import Invalid
from fenghuo.platform.paths import data_dir

FORMAT = "fenghuo-checkpoint/1"


def key_path() -> Path:
    return Path(os.environ.get("FENGHUO_LEDGER_KEY") or data_dir() / "ledger-signing-key.pem")


def load_or_create_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The deployment's signing key; created (mode 0600) on first use."""
    return keys.load_or_create(path or key_path())


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return keys.raw_public(key)


key_id = keys.key_id


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    ts: str
    public_key: str  # base64 raw Ed25519 public key
    key_id: str
    signature: str  # base64 over the canonical signed body
    format: str = FORMAT

    def signed_body(self) -> bytes:
        return canonical({"format": self.format, "seq": self.seq, "head": self.head, "ts": self.ts, "key_id": self.key_id}).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "<checkpoint>") -> Checkpoint:
        try:
            data = json.loads(text)
            return cls(**{k: data[k] for k in ("seq", "head", "ts", "public_key", "key_id", "signature", "format")})
        except (ValueError, KeyError, TypeError) as exc:
            raise Invalid(f"{source} 不是有效的检查点文件：{exc}", f"{source} is not a valid checkpoint file: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        p = Path(path)
        if not p.exists():
            raise Invalid(f"检查点文件不存在：{p}", f"checkpoint file not found: {p}")
        return cls.from_json(p.read_text(encoding="utf-8"), str(p))


def sign(seq: int, head: str, ts: str, key: Ed25519PrivateKey | None = None) -> Checkpoint:
    key = key or load_or_create_key()
    public = _raw_public(key.public_key())
    unsigned = Checkpoint(seq, head, ts, base64.b64encode(public).decode(), key_id(public), "")
    sig = key.sign(unsigned.signed_body())
    return Checkpoint(seq, head, ts, unsigned.public_key, unsigned.key_id, base64.b64encode(sig).decode())


def signature_ok(cp: Checkpoint, trusted_public_key: bytes | None = None) -> bool:
    public = base64.b64decode(cp.public_key)
    if trusted_public_key is not None and public != trusted_public_key:
        return False
    if key_id(public) != cp.key_id:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(cp.signature), cp.signed_body())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class CheckpointResult:
    ok: bool
    zh: str
    en: str
    problem: str | None = None  # bad_signature | truncated | rewritten | chain


def verify_against(entries: Iterable[Mapping[str, Any]], cp: Checkpoint, trusted_public_key: bytes | None = None) -> CheckpointResult:
    """Does the chain verify, and does it still contain the checkpoint's entry unchanged?"""
    if not signature_ok(cp, trusted_public_key):
        return CheckpointResult(False, "检查点签名无效或密钥不受信任", "checkpoint signature is invalid or the key is not trusted", "bad_signature")
    at_seq: list[str] = []

    def watch(it: Iterable[Mapping[str, Any]]):
        for e in it:
            if int(e["seq"]) == cp.seq:
                at_seq.append(e["hash"])
            yield e

    status = verify_chain(watch(entries))
    if not status.ok:
        zh, en = status.problem.describe()
        return CheckpointResult(False, zh, en, "chain")
    if status.head_seq < cp.seq:
        return CheckpointResult(
            False,
            f"账本被截断：检查点记录到第 {cp.seq} 条，账本只到第 {status.head_seq} 条",
            f"ledger truncated: the checkpoint covers entry {cp.seq} but the ledger ends at {status.head_seq}",
            "truncated",
        )
    if at_seq and at_seq[0] != cp.head:
        return CheckpointResult(
            False,
            f"账本被改写：第 {cp.seq} 条的哈希与检查点不符（整条链被重新计算过）",
            f"ledger rewritten: entry {cp.seq}'s hash differs from the checkpoint (the chain was re-hashed)",
            "rewritten",
        )
    return CheckpointResult(
        True,
        f"账本在检查点（第 {cp.seq} 条）之后延续，共 {status.count} 条，验证通过",
        f"ledger extends the checkpoint at entry {cp.seq}; {status.count} entries verified",
    )
