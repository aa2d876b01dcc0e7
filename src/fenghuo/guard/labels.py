"""Labelling AI-generated text (GB 45438-2025): the explicit label and the implicit metadata.

Explicit: a visible notice at the start or end of the text (default ``本内容由人工智能生成 /
AI-generated``). Implicit: metadata named ``AIGC`` with seven fields in this order (App. E;
rows CN-LB-12…15 of shared/research/regulations.md): Label, ContentProducer, ProduceID,
ReservedCode1, ContentPropagator, PropagateID, ReservedCode2. On first write the propagation
fields equal the production fields. ReservedCode1 holds ``ed25519:<key id>:<signature>``, an
Ed25519 signature over the production fields only (Label, ContentProducer, ProduceID), so a
propagation platform may write its own ContentPropagator, PropagateID and ReservedCode2
(CN-LB-14/16, :mod:`fenghuo.guard.label_propagate`) and the producer's signature still verifies,
while any change of a production field is detected. ReservedCode2 names the key on first write
(``ed25519:<key id>``); it belongs to the propagation platform afterwards. Labels written before
this change (ReservedCode1 a bare signature over all six other fields) still verify as long as
nobody rewrote their propagation fields. The signature covers the metadata only, not the text: a
valid label copied onto other content still verifies. What ties label and content is ProduceID
(the call's event id, kept by the monitor) — binding a content hash would need the text at
verification time, which the metadata alone does not carry. Values stay within the standard's
character set (0x21–0x7E without ``"`` and ``\\``): base64url, hex ids.

Batch-signed labels (:mod:`fenghuo.guard.label_batch`): ReservedCode1
``ed25519m:<key id>:<signature>:<index>:<path>``, one signature over the root of a Merkle tree
of 16 labels' production fields, each label carrying its index and inclusion path, so it still
verifies alone with the public key and a propagation platform may still rewrite its own fields.
Why: the signature was ≈ 29 % of the instructions of a gateway call (issue 19); made in
batches of 16 a label costs ≈ 6.7 µs of CPU in a loop against ≈ 21.5 µs signed alone (uuid7
included; 2-core Xeon, alternating runs); the gateway's CPU per call at c=16 fell ≈ 10 %
(142 → 119 µs, interleaved A/B, docs/guard.md). The header grows by ≈ 90 characters
(ReservedCode1 ≈ 200). Only the gateway's labels made ahead or in a call's batch (``guard.label_ahead``) take
this form; a label made on its own (``Labeller.implicit``, ``issue`` with none made ahead, the
SDK) keeps the single signature, which costs the same as a batch of one and is shorter.
:func:`problem` and :func:`verify` read all three forms.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fenghuo.guard import label_batch
from fenghuo.guard.ids import uuid7
from fenghuo.platform import keys
from fenghuo.platform.paths import data_dir

FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2")
PRODUCTION = ("Label", "ContentProducer", "ProduceID")  # what ReservedCode1 signs
PROPAGATION = ("ContentPropagator", "PropagateID", "ReservedCode2")  # what a propagation platform writes
LABEL_VALUES = ("1", "2", "3")  # App. E c): 1 is, 2 possibly, 3 suspected AI-generated/synthesised (CN-LB-13)
DEFAULT_TEXT = "本内容由人工智能生成 / AI-generated"
HEADER = "AIGC"  # the HTTP header carrying the same JSON as the body's "AIGC" member


_NOT_ALLOWED = re.compile(r'[^\x21\x23-\x5b\x5d-\x7e]')  # GB 45438 App. E: 0x21–0x7E without `"` and `\`


def _allowed(value: str) -> bool:
    return _NOT_ALLOWED.search(value) is None


allowed = _allowed  # the same check for the propagation module


def key_path() -> Path:
    return Path(os.environ.get("FENGHUO_LABEL_KEY") or data_dir() / "label-signing-key.pem")


def load_or_create_key(path: Path | None = None) -> Ed25519PrivateKey:
    return keys.load_or_create(path or key_path())


def key_id(public: Ed25519PublicKey) -> str:
    return keys.key_id(keys.raw_public(public))


def _signed_bytes(fields: dict[str, str]) -> bytes:
    """The production fields, behind a tag no label of the old format can produce."""
    return ("AIGC-production;" + ";".join(f"{k}={fields[k]}" for k in PRODUCTION)).encode()


def _legacy_signed_bytes(fields: dict[str, str]) -> bytes:
    """What labels written before the production-only signature signed: all six other fields."""
    return ";".join(f"{k}={fields[k]}" for k in FIELDS if k != "ReservedCode1").encode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(sig: bytes) -> str:
    # base64.urlsafe_b64encode's own steps (b2a_base64, translate) without its two Python frames
    return binascii.b2a_base64(sig, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class LabelConfig:
    enabled: bool = True
    text: str = DEFAULT_TEXT
    position: str = "end"  # start | end
    producer: str = "fenghuo"  # provider name or code (ContentProducer)
    waiver: str | None = None  # enabled=False: the recorded label waiver it is served under (CN-LB-18, guard.label_waivers)

    def __post_init__(self) -> None:
        if self.position not in ("start", "end"):
            raise ValueError("label position must be start or end / 标识位置只能是 start 或 end")
        if not _allowed(self.producer):
            raise ValueError(f"ContentProducer {self.producer!r} 含不允许的字符 / has characters outside 0x21–0x7E")


def signer(key: Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """``sign(data) -> 64-byte Ed25519 signature`` with ``key``: libsodium's (PyNaCl) when the
    key's seed can be read, else the key's own (OpenSSL, through cryptography).

    Why two: every gateway call signs one label, and OpenSSL's Ed25519 through cryptography
    took ≈ 32 µs of CPU per signature on this project's 2-core machine against libsodium's
    ≈ 19 µs, measured alternately in one process (issue 19; at concurrency 16 on one core the
    gateway's CPU per call is its queueing latency). Ed25519 signatures are deterministic, so
    both give the same bytes for the same key and data (tests/guard/test_label_issue.py)."""
    try:
        from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

        secret = crypto_sign_seed_keypair(key.private_bytes_raw())[1]
    except (ImportError, AttributeError, ValueError, TypeError):  # no PyNaCl, or a key whose seed cannot be read
        return key.sign
    try:
        # libsodium's crypto_sign called through PyNaCl's cffi module itself: the binding's
        # argument checks, its second allocation and the copy of signature + message cost
        # ≈ 5,000 instructions a label (≈ 1–2 µs; callgrind, issue 19). A PyNaCl without that
        # module layout falls back to the binding.
        from nacl._sodium import ffi, lib

        new, buffer, sign_c, null = ffi.new, ffi.buffer, lib.crypto_sign, ffi.NULL
    except (ImportError, AttributeError):
        def sign(data: bytes) -> bytes:
            return crypto_sign(data, secret)[:64]  # signature + message: the first 64 bytes are the signature

        return sign

    def sign_direct(data: bytes) -> bytes:
        out = new("unsigned char[]", len(data) + 64)  # per call: the signing thread and a call may sign at once
        if sign_c(out, null, data, len(data), secret) != 0:
            raise ValueError("Ed25519 signing failed")
        return buffer(out, 64)[:]

    return sign_direct


class Labeller:
    def __init__(self, config: LabelConfig | None = None, key: Ed25519PrivateKey | None = None) -> None:
        self.config = config or LabelConfig()
        self.key = key or load_or_create_key()
        self.public = self.key.public_key()
        self.kid = f"ed25519:{key_id(self.public)}"
        self._batch_kid = f"{label_batch.KIND}:{key_id(self.public)}"
        self._sign = signer(self.key)
        self.ahead = None  # guard.label_ahead.SignedAhead, in the gateway's own process (sign_ahead)

    def sign_ahead(self) -> bool:
        """Sign labels ahead of need in idle time (``guard.label_ahead``); False where the
        thread cannot run idle-only, and labels are then signed per call as before."""
        from fenghuo.guard.label_ahead import SignedAhead

        if self.ahead is None:
            ahead = SignedAhead(self)
            if ahead.start():
                self.ahead = ahead
        return self.ahead is not None

    def explicit(self, text: str) -> str:
        if not self.config.enabled:
            return text
        if self.config.position == "start":
            return f"【{self.config.text}】\n{text}"
        return f"{text}\n【{self.config.text}】"

    @property
    def prefix(self) -> str:
        """What a stream sends before the model's text (start position)."""
        return f"【{self.config.text}】\n" if self.config.enabled and self.config.position == "start" else ""

    @property
    def suffix(self) -> str:
        return f"\n【{self.config.text}】" if self.config.enabled and self.config.position == "end" else ""

    def implicit(self, produce_id: str) -> dict[str, dict[str, str]]:
        """``{"AIGC": {seven fields in order}}`` for one piece of content."""
        if not _allowed(produce_id):
            raise ValueError(f"ProduceID {produce_id!r} has characters outside 0x21–0x7E")
        return self._implicit(self.config, produce_id)

    def _implicit(self, config: LabelConfig, produce_id: str) -> dict[str, dict[str, str]]:
        # _signed_bytes spelled out for Label "1" (one call per gateway call; the same bytes,
        # tests/guard/test_label_issue.py), and the dict built once in FIELDS order.
        producer = config.producer
        signed = f"AIGC-production;Label=1;ContentProducer={producer};ProduceID={produce_id}".encode()
        return {"AIGC": {"Label": "1", "ContentProducer": producer, "ProduceID": produce_id,
                         "ReservedCode1": f"{self.kid}:{_b64(self._sign(signed))}", "ContentPropagator": producer,
                         "PropagateID": produce_id, "ReservedCode2": self.kid}}

    def _implicit_batch(self, config: LabelConfig, count: int,
                        pause: Callable[[], object] | None = None) -> list[tuple[str, dict[str, dict[str, str]]]]:
        """``count`` fresh (ProduceID, label) pairs, in id order, under one signature over the
        root of their Merkle tree (``guard.label_batch``). ``pause`` runs between labels: the
        idle-time thread gives the interpreter lock up there, so a call that wakes never waits
        for a whole batch's hashing (``guard.label_ahead``)."""
        producer = config.producer
        prefix = label_batch.leaf_prefix("1", producer)
        pids, leaves = [], []
        for i in range(count):
            pid = uuid7()
            pids.append(pid)
            leaves.append(label_batch.leaf(prefix, pid, i))
            if pause is not None:
                pause()
        levels = label_batch.tree(leaves)
        sig = _b64(self._sign(label_batch.root_message(len(levels) - 1, levels[-1][0])))
        head, kid, path = f"{self._batch_kid}:{sig}:", self.kid, label_batch.path
        out = []
        for i, pid in enumerate(pids):
            out.append((pid, {"AIGC": {"Label": "1", "ContentProducer": producer, "ProduceID": pid,
                                       "ReservedCode1": f"{head}{i}:{_b64(path(levels, i))}",
                                       "ContentPropagator": producer, "PropagateID": pid, "ReservedCode2": kid}}))
            if pause is not None:
                pause()
        return out

    def issue(self) -> tuple[str, dict[str, dict[str, str]]]:
        """A fresh ProduceID (uuid7, also the call's event id) and its label.

        Signed here, on the caller's thread. Signing ahead on a thread of its own was measured
        and dropped (issue 19): each signature gives the interpreter lock up and must win it
        back from the event loop, and at c=16 the gateway then spent 57 µs of CPU per call on
        the signer (≈ 30 µs inline) and its p99 rose fourfold. What ``sign_ahead`` does instead
        runs only while the process is idle (``guard.label_ahead``); with it, a label made
        ahead is taken when one is ready."""
        ahead = self.ahead
        if ahead is not None:
            got = ahead.take()
            if got is not None:
                return got
        pid = uuid7()
        return pid, self._implicit(self.config, pid)

    @staticmethod
    def header_value(meta: dict) -> str:
        # orjson writes the same compact JSON as json.dumps(separators=(",", ":")) ~8x faster;
        # label values are ASCII by construction (``_allowed``), so the header stays ASCII.
        return orjson.dumps(meta).decode()


def unwrap(meta: object) -> dict | None:
    """The seven-field label object from any form it travels in: the object itself (a response
    body's ``"AIGC"`` member), ``{"AIGC": {...}}`` (what the ``AIGC`` header carries), or either
    as JSON text. None when it is none of these."""
    if isinstance(meta, (str, bytes)):
        try:
            meta = orjson.loads(meta)
        except orjson.JSONDecodeError:
            return None
    if isinstance(meta, dict) and isinstance(meta.get("AIGC"), dict):
        meta = meta["AIGC"]
    return meta if isinstance(meta, dict) else None


def problem(meta: object, public: Ed25519PublicKey) -> tuple[str, str] | None:
    """Why a label does not verify, in 中文 and English, or None when it does."""
    f = unwrap(meta)
    if f is None:
        return "不是 AIGC 标识（应为七个字段的对象）", "not an AIGC label (a seven-field object)"
    if tuple(f) != FIELDS:
        return (f"字段或顺序不符：{', '.join(map(str, f))}", f"fields or their order differ: {', '.join(map(str, f))}; "
                f"expected {', '.join(FIELDS)}")
    bad = [k for k, v in f.items() if not isinstance(v, str) or not (_allowed(v) or v == "")]
    if bad:
        return f"字段值不合规：{', '.join(bad)}", f"field values outside the allowed characters: {', '.join(bad)}"
    if f["Label"] not in LABEL_VALUES:
        return f"Label 值 {f['Label']!r} 不是 1、2 或 3", f"Label {f['Label']!r} is not 1, 2 or 3 (GB 45438 App. E c)"
    rc1 = f["ReservedCode1"]
    if not rc1:
        return ("没有生成者签名（ReservedCode1 为空，例如传播平台为未标识内容写的标识）",
                "no producer signature (ReservedCode1 is empty, e.g. a propagation platform's label for unlabelled content)")
    kind, _, rest = rc1.partition(":")
    if kind == label_batch.KIND:  # ed25519m:<key id>:<signature over a tree's root>:<index>:<path>
        try:
            signer, sig, signed = label_batch.signed(f, rest)
        except label_batch.Malformed as exc:
            return f"批量签名格式不符：{exc.zh}", f"malformed batch signature: {exc.en}"
    elif kind == "ed25519" and ":" in rest:  # ed25519:<key id>:<signature over the production fields>
        signer, _, sig_text = rest.rpartition(":")
        signer, signed = f"ed25519:{signer}", _signed_bytes(f)
    else:  # the old format: a bare signature over the six other fields, the key named in ReservedCode2
        signer, sig_text, signed = f["ReservedCode2"], rc1, _legacy_signed_bytes(f)
    try:
        if kind != label_batch.KIND:
            sig = _unb64(sig_text)
        public.verify(sig, signed)
    except (InvalidSignature, ValueError):
        kid = f"ed25519:{key_id(public)}"
        if signer != kid:
            return (f"由另一把密钥签名（{signer}，此处为 {kid}）",
                    f"signed by another key ({signer}; the key given is {kid})")
        return "签名不符：生成字段被改动或伪造", "the signature does not match: fields altered or forged"
    return None


def verify(meta: object, public: Ed25519PublicKey) -> bool:
    """True if the label has the seven fields in order and ReservedCode1 signs its production
    fields (Label, ContentProducer, ProduceID; propagation fields may differ). ``meta``
    may be the label object as a body carries it, ``{"AIGC": {...}}`` as the header carries it,
    or the header's JSON text (:func:`unwrap`)."""
    return problem(meta, public) is None
