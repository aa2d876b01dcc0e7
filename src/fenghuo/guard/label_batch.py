"""Batch-signed AIGC labels: one Ed25519 signature over the root of a Merkle tree of labels.

The Ed25519 signature was ≈ 29 % of the instructions of a gateway call (issue 19). A batch of
``2**depth`` labels is signed once: each label is a leaf of a binary hash tree, the producer
signs the tree's root, and each label's ReservedCode1 carries the signature, the label's index
and its inclusion path (the sibling hashes from leaf to root), so each label still verifies on
its own with only the public key:

    ReservedCode1 = ed25519m:<key id>:<signature>:<index>:<path>

``<signature>`` and ``<path>`` are base64url without padding, ``<index>`` a decimal without
leading zeros (0 ≤ index < 2**depth), ``<path>`` the ``depth`` sibling hashes of 16 bytes each,
the leaf's sibling first; depth = len(path) / 16, 1 to :data:`MAX_DEPTH`. All within GB 45438
App. E's character set (``labels._allowed``).

The hashes (SHA-256 truncated to 16 bytes, :func:`_h`), each input behind a tag of its own:

    leaf  = H(0x00 "AIGC-leaf;" len Label | len ContentProducer | len ProduceID | index)
    node  = H(0x01 left right)
    signed message = "AIGC-batch-root;v1;" depth root

``len`` is the field's length in 4 bytes big-endian before its bytes, ``index`` 4 bytes
big-endian. The leaf binds exactly what the single signature binds (the production fields:
Label, ContentProducer, ProduceID), so propagation fields may still be rewritten
(``guard.label_propagate``), plus the label's place in the tree. The leaf and node tags keep a
leaf from passing for an inner node and back (a shorter or longer path cannot verify); the
signed message's tag keeps it apart from the single form's ``AIGC-production;…`` and the legacy
``Label=…`` messages, and binds the depth. Fields are length-prefixed so no two sets of values
make the same leaf (the single form's ``;``-joined text does not have that property; it is kept
as it is for the labels already written).

Why 16 bytes: a forger must find other production fields whose leaf (or another node) equals a
hash in a tree already signed, a second preimage: ≈ 2**128 work, ≈ 2**128 / T against T hashes
ever issued (2**88 after 2**40 labels). Collisions (2**64 by the birthday bound) do not help:
what goes into a leaf is the producer's (Label "1", its ContentProducer, a fresh uuid7), not an
attacker's. Halving the hashes keeps a 16-label path at 86 characters of the AIGC header.
"""

from __future__ import annotations

import binascii
import re
from hashlib import sha256

KIND = "ed25519m"
NODE_BYTES = 16
MAX_DEPTH = 8  # 256 labels a signature; the verifier refuses deeper paths (bounded work)
_LEAF = b"\x00AIGC-leaf;"
_NODE = b"\x01"
_ROOT = b"AIGC-batch-root;v1;"
_INDEX = re.compile(r"0|[1-9][0-9]{0,2}")  # canonical decimal: "01" must not verify as 1
_B64 = re.compile(r"[A-Za-z0-9_-]*")
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class Malformed(ValueError):
    """A batch-signed ReservedCode1 that cannot even be checked; ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _h(data: bytes) -> bytes:
    return sha256(data).digest()[:NODE_BYTES]


def b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64_exact(text: str, zh: str, en: str) -> bytes:
    """Decode base64url, accepting only the one encoding :func:`b64` writes: the decoder alone
    skips stray characters and ignores a last character's spare bits, so several strings would
    decode to the same signature or path and an altered label would still verify."""
    if _B64.fullmatch(text) is None or len(text) % 4 == 1:
        raise Malformed(f"{zh}不是 base64url", f"the {en} is not base64url")
    raw = binascii.a2b_base64(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    if b64(raw) != text:
        raise Malformed(f"{zh}的 base64url 编码不规范", f"the {en}'s base64url encoding is not canonical")
    return raw


def _field(value: str) -> bytes:
    b = value.encode()
    return len(b).to_bytes(4, "big") + b


def leaf_prefix(label: str, producer: str) -> bytes:
    """What every leaf of one configuration starts with (computed once a batch)."""
    return _LEAF + _field(label) + _field(producer)


def leaf(prefix: bytes, produce_id: str, index: int) -> bytes:
    return _h(prefix + _field(produce_id) + index.to_bytes(4, "big"))


def tree(leaves: list[bytes]) -> list[list[bytes]]:
    """The tree's levels, leaves first, root last (``[[root]]``); ``len(leaves)`` a power of two."""
    n = len(leaves)
    if n < 2 or n & (n - 1) or n > 1 << MAX_DEPTH:
        raise ValueError(f"a batch holds 2 to {1 << MAX_DEPTH} labels, a power of two, not {n}")
    levels = [leaves]
    while len(levels[-1]) > 1:
        low = levels[-1]
        levels.append([_h(_NODE + low[i] + low[i + 1]) for i in range(0, len(low), 2)])
    return levels


def path(levels: list[list[bytes]], index: int) -> bytes:
    """The siblings of leaf ``index`` from the leaves up (the root excluded)."""
    return b"".join(level[(index >> d) ^ 1] for d, level in enumerate(levels[:-1]))


def root_message(depth: int, root: bytes) -> bytes:
    return _ROOT + bytes((depth,)) + root


def root_of(node: bytes, index: int, siblings: bytes) -> bytes:
    """The root a leaf reaches through its path: at each level the index's bit says whether the
    node is the right (1) or the left (0) child."""
    for d in range(len(siblings) // NODE_BYTES):
        sib = siblings[d * NODE_BYTES:(d + 1) * NODE_BYTES]
        node = _h(_NODE + sib + node) if (index >> d) & 1 else _h(_NODE + node + sib)
    return node


def signed(fields: dict[str, str], rest: str) -> tuple[str, bytes, bytes]:
    """(the key id it names, the signature, the message it must sign) for a ReservedCode1 of
    this form, ``rest`` being what follows ``ed25519m:``; :class:`Malformed` when it cannot be
    read. The signature itself is checked by the caller (``labels.problem``)."""
    parts = rest.rsplit(":", 3)
    if len(parts) != 4 or not parts[0]:
        raise Malformed("批量签名应为 ed25519m:<密钥>:<签名>:<序号>:<路径>",
                        "a batch signature reads ed25519m:<key id>:<signature>:<index>:<path>")
    kid, sig_text, index_text, path_text = parts
    sig = _unb64_exact(sig_text, "签名", "signature")
    siblings = _unb64_exact(path_text, "路径", "path")
    depth, spare = divmod(len(siblings), NODE_BYTES)
    if spare or not 1 <= depth <= MAX_DEPTH:
        raise Malformed(f"路径长度 {len(siblings)} 字节不是 16 字节的 1 到 {MAX_DEPTH} 倍",
                        f"the path is {len(siblings)} bytes, not 1 to {MAX_DEPTH} hashes of 16 bytes")
    if _INDEX.fullmatch(index_text) is None or int(index_text) >= 1 << depth:
        raise Malformed(f"序号 {index_text!r} 不是 0 到 {(1 << depth) - 1} 的规范十进制数",
                        f"the index {index_text!r} is not a canonical decimal from 0 to {(1 << depth) - 1}")
    index = int(index_text)
    node = leaf(leaf_prefix(fields["Label"], fields["ContentProducer"]), fields["ProduceID"], index)
    return f"ed25519:{kid}", sig, root_message(depth, root_of(node, index, siblings))
