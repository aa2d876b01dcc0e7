"""One message while the rules check evaluates it: its encodings, each made once and only when
needed (``rules_match.find_spans`` asks for them), and the way between original and
normalised positions.

The normalised text is decoded from the quad codes only for a message some rule is due on:
``decode_text`` does it in one C loop (``_textnative.decode_quad``), else with two table gathers
(``Normalised.text`` takes six array operations; numpy's per-call cost is most of either at 1 KB).
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right

import numpy as np

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import NATIVE, Normalised, decode_quad

WHOLE_DECODE = 2048  # normalised characters: decoded whole for the first window (``Message.window``)

# ``Normalised.text`` by two table gathers instead of ``decode_quad``'s six array operations
# (10.8 -> 5.6 µs per 1 KB message measured; numpy's per-call cost is most of either). The
# quad form's bytes (normalize_table.encode_quad), little-endian: 0x80, 0x80|cp>>14,
# 0x80|(cp>>7)&0x7f, 0x80|cp&0x7f — so the second byte gives the high bits and the last two,
# read as one uint16, the low fourteen.
_HIGH = (np.arange(256, dtype=np.uint32) & 0x7F) << 14
_LOW = (((np.arange(65536, dtype=np.uint32) & 0x7F) << 7) | ((np.arange(65536, dtype=np.uint32) >> 8) & 0x7F))


# The C kernel's loop when it is built (``_textnative.decode_quad``, ~1 µs per 1 KB against the
# gathers' ~7.5; tests/checks/test_rules_native.py holds both equal). None: the gathers below.
_DECODE = getattr(NATIVE, "decode_quad", None) if sys.byteorder == "little" else None


def decode_text(codes: np.ndarray) -> str:
    """The normalised text of quad codes: ``decode_quad`` then UTF-32, as ``Normalised.text``."""
    q = np.ascontiguousarray(codes, np.uint32)
    if _DECODE is not None:
        return _DECODE(q)
    return decode_text_numpy(q)


def decode_text_numpy(q: np.ndarray) -> str:
    """``decode_text`` without the C kernel (contiguous uint32 codes)."""
    if sys.byteorder != "little":  # pragma: no cover - the byte views assume little-endian
        return decode_quad(q).tobytes().decode("utf-32-le", "surrogatepass")
    out = _LOW.take(q.view(np.uint16)[1::2])
    out |= _HIGH.take(q.view(np.uint8)[1::4])
    return out.tobytes().decode("utf-32-le", "surrogatepass")


class Message:
    """One message while it is checked: its encodings, each made once and only when needed."""

    __slots__ = ("text", "n", "_packed", "_utf8", "_ntext", "_dropped", "_steps", "_codes")

    def __init__(self, text: str, n: Normalised) -> None:
        self.text, self.n = text, n
        self._packed = self._utf8 = self._ntext = self._dropped = self._steps = self._codes = None

    def codes(self) -> np.ndarray:
        """The normalised codes, contiguous uint32 (what ``_textnative.CodeSet.find`` reads)."""
        if self._codes is None:
            c = self.n.codes
            self._codes = c if c.dtype == np.uint32 and c.flags.c_contiguous else np.ascontiguousarray(c, np.uint32)
        return self._codes

    def to_original(self, positions: list[int]) -> list[int]:
        """``Normalised.to_original_list`` with its lists made once per message, not per call."""
        n = self.n
        if n.steps is None:
            return positions
        if self._steps is None:
            self._steps = (n.steps.tolist(), None if n.shift is None else n.shift.tolist())
        steps, shift = self._steps
        if shift is None:
            return [p + bisect_right(steps, p) for p in positions]
        return [p + shift[bisect_right(steps, p)] for p in positions]

    def packed(self):
        if self._packed is None:
            # The lexicon's gather of this message when it ran first (``Normalised.packed``).
            self._packed = self.n.packed if self.n.packed is not None else pack3(self.n.codes)
        return self._packed

    def utf8(self) -> bytes:
        if self._utf8 is None:
            # A lone surrogate becomes one '?' byte: character offsets stay exact.
            self._utf8 = self.text.encode("utf-8", "replace")
        return self._utf8

    def ntext(self) -> str:
        if self._ntext is None:
            self._ntext = decode_text(self.n.codes)  # ~5 µs per 1 KB: only for messages that get this far
        return self._ntext

    def window(self, a: int, b: int) -> tuple[str, int]:
        """Normalised text covering [a, b) and the position it starts at: the whole text once
        decoded, else just this stretch plus 8 characters before it (enough for ``re`` to judge
        a boundary at ``a``) — decoding all of a 1 KB message costs ~10 µs, but a 50-character
        stretch nearly as much (numpy's per-call cost): texts up to ``WHOLE_DECODE`` characters
        are decoded whole, once."""
        if self._ntext is not None:
            return self._ntext, 0
        if self.n.codes.size <= WHOLE_DECODE:  # one decode's fixed cost is most of it
            return self.ntext(), 0
        start = max(a - 8, 0)
        return decode_text(self.n.codes[start:b]), start

    def chars(self, offsets: list[int]) -> list[int]:
        """UTF-8 byte offsets → character offsets."""
        data = self.utf8()
        if len(data) == len(self.text):
            return offsets
        if len(offsets) <= 16:
            return [len(data[:o].decode("utf-8", "replace")) for o in offsets]
        starts = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
        cum = np.concatenate([[0], np.cumsum(starts)])
        return cum[np.asarray(offsets)].tolist()

    def to_norm(self, c: int) -> int | None:
        """The normalised position of the first character kept at or after original ``c``;
        None when some character expanded into several (``ﬁ``): then there is no cheap way back."""
        n = self.n
        if n.steps is None:
            return min(c, n.codes.size)
        if n.shift is not None:
            return None
        if self._dropped is None:  # original positions of the dropped characters
            self._dropped = (n.steps + np.arange(n.steps.size)).tolist()
        return min(c - bisect_left(self._dropped, c), n.codes.size)
