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


def deployment_public_key(path: Path | None = None) -> bytes | None:
    """The raw public half of this deployment's signing key: the key ``ledger verify`` pins by
    default. None when this machine holds no key (it is not created by asking)."""
    path = path or key_path()
    if not path.exists():
        return None
    return _raw_public(keys.load_or_create(path).public_key())


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


def read_public_key(path: str | Path) -> bytes:
    """A pinned public key from a file: the raw key in base64 (``fenghuo ledger public-key``) or
    a PEM ``PUBLIC KEY``."""
    from cryptography.hazmat.primitives import serialization

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8").strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            return _raw_public(key)
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
        return raw
    except (OSError, ValueError) as exc:
        raise Invalid(f"{p} 不是可用的 Ed25519 公钥：{exc}", f"{p} is not a usable Ed25519 public key: {exc}", field="key") from None


def sign(seq: int, head: str, ts: str, key: Ed25519PrivateKey | None = None) -> Checkpoint:
    key = key or load_or_create_key()
    public = _raw_public(key.public_key())
    unsigned = Checkpoint(seq, head, ts, base64.b64encode(public).decode(), key_id(public), "")
    sig = key.sign(unsigned.signed_body())
    return Checkpoint(seq, head, ts, unsigned.public_key, unsigned.key_id, base64.b64encode(sig).decode())


def signature_ok(cp: Checkpoint, trusted_public_key: bytes | None = None) -> bool:
    try:
        public = base64.b64decode(cp.public_key, validate=True)
    except ValueError:
        return False
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
    problem: str | None = None  # untrusted_key | bad_signature | truncated | rewritten | chain


def _key_problem(cp: Checkpoint, pinned: bytes | None) -> CheckpointResult | None:
    """A checkpoint proves nothing if whoever rewrote the ledger could also have signed it: the
    key must be one the verifier already holds (issue 14), not the one inside the checkpoint."""
    if pinned is None:
        return CheckpointResult(
            False, "没有可信公钥：本机没有部署的签名密钥；用 --key 指定部署的公钥（或 --trust-checkpoint-key 信任检查点自带的密钥）",
            "no pinned key: this machine holds no deployment signing key; give the deployment's public key with --key "
            "(or --trust-checkpoint-key to trust the key inside the checkpoint)", "untrusted_key")
    if cp.public_key != base64.b64encode(pinned).decode():
        return CheckpointResult(
            False, f"检查点由未被信任的密钥 {cp.key_id} 签署（信任的是 {key_id(pinned)}）",
            f"checkpoint signed by key {cp.key_id}, which is not the pinned key {key_id(pinned)}", "untrusted_key")
    return None


def verify_against(entries: Iterable[Mapping[str, Any]], cp: Checkpoint, trusted_public_key: bytes | None = None, *,
                   trust_checkpoint_key: bool = False) -> CheckpointResult:
    """Does the chain verify, and does it still contain the checkpoint's entry unchanged?

    The signing key is pinned: ``trusted_public_key`` if given, else this deployment's own key;
    only ``trust_checkpoint_key`` accepts whatever key the checkpoint carries."""
    if not trust_checkpoint_key:
        problem = _key_problem(cp, trusted_public_key if trusted_public_key is not None else deployment_public_key())
        if problem:
            return problem
    if not signature_ok(cp):
        return CheckpointResult(False, "检查点签名无效", "checkpoint signature is invalid", "bad_signature")
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
