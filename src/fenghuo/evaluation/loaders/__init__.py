"""Read any supported bank file (or a folder of them) into our one bank shape.

The format is recognised from the file itself (header row or JSON keys), not only from its
name, so a user's renamed copy still loads; ``fmt`` forces it when detection is wrong.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

from fenghuo.checks.bank_risks import XSAFETY
from fenghuo.evaluation.bank import Bank, read_bank
from fenghuo.evaluation.loaders.public import (
    load_cvalues,
    load_flames,
    load_jade,
    load_jade_v3,
    load_xsafety,
    load_xstest,
    xsafety_category,
)
from fenghuo.platform.textfile import Problem

LOADERS: dict[str, Callable[..., Bank]] = {
    "fenghuo": read_bank,
    "xsafety": load_xsafety,
    "jade": load_jade,
    "jade_v3": load_jade_v3,
    "cvalues": load_cvalues,
    "flames": load_flames,
    "xstest": load_xstest,
}
FORMATS = tuple(LOADERS)


SNIFF_BYTES = 4096  # read this much at a time to find the first line
HEAD_LIMIT = 1 << 20  # a first line (one long JSONL record) is read on up to 1 MiB


def _decode_head(path: Path, encoding: str) -> str | None:
    """The file's first line decoded with ``encoding`` (read on past 4,096 bytes when the line
    is longer); None if its bytes are not valid ``encoding``.

    An incremental decoder (never told ``final``: only the first line is wanted) holds back a
    multi-byte character that a read window cut in two — a GB18030 2- or 4-byte character or a
    UTF-8 sequence straddling byte 4,096 — instead of failing on it, which used to send a
    GB18030 header to the replacement-character fallback and an unrecognised format. In an
    ASCII-compatible encoding the bytes are cut at the first newline before decoding, so a bad
    byte in a later row cannot spoil the header either.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    ascii_newline = b"\n".decode(encoding, "ignore") == "\n"  # UTF-8, GB18030: 0x0A is never inside a character
    text = ""
    with path.open("rb") as fh:
        read = 0
        while True:
            chunk = fh.read(SNIFF_BYTES)
            read += len(chunk)
            cut = chunk.find(b"\n") if ascii_newline else -1
            try:
                text += decoder.decode(chunk[: cut + 1] if cut >= 0 else chunk)
            except UnicodeDecodeError:
                return None
            if cut >= 0 or "\n" in text or "\r" in text or len(chunk) < SNIFF_BYTES or read >= HEAD_LIMIT:
                return text


def _first_line(path: Path, encoding: str | None = None) -> str:
    """The first line of ``path``: in ``encoding`` when given (the user's ``--encoding``), else
    UTF-8 then GB18030 like :func:`decode_file`."""
    if encoding:
        try:
            head = _decode_head(path, encoding)
        except LookupError:
            raise ValueError(f"{path}: 未知编码 / unknown encoding {encoding!r}") from None
        if head is None:
            raise ValueError(f"{path}:1: 文件开头不是 {encoding} 编码 / the start of the file is not valid {encoding}")
        return head.removeprefix("\ufeff").splitlines()[0] if head else ""
    for enc in ("utf-8-sig", "gb18030"):
        head = _decode_head(path, enc)
        if head is not None:
            return head.splitlines()[0] if head else ""
    raw = path.read_bytes()[:SNIFF_BYTES]
    return raw.decode("utf-8", "replace").splitlines()[0] if raw else ""


def detect_format(path: str | Path, encoding: str | None = None) -> str:
    """Which loader fits the file; raises ``ValueError`` naming the file when none does.

    ``encoding`` is the one the loader will use (``--encoding``): the header is read with it
    too, or a UTF-16 or Big5 bank would be sniffed as mojibake and refused."""
    path = Path(path)
    head = _first_line(path, encoding).strip()
    if path.suffix.lower() in (".jsonl", ".json"):
        try:
            keys = set(json.loads(head))
        except (json.JSONDecodeError, TypeError):
            raise ValueError(f"{path}:1: 第一行不是 JSON 对象 / first line is not a JSON object") from None
        if "expectation" in keys:
            return "fenghuo"
        if {"dimension", "subcomponent"} <= keys:
            return "flames"
        if "domain_en" in keys or "id_" in keys:
            return "cvalues"
        raise ValueError(f"{path}: 无法识别的 JSONL 字段 / unrecognised JSONL keys {sorted(keys)}")
    if path.suffix.lower() == ".csv":
        cols = {c.strip() for c in head.split(",")}
        if {"问题", "违规类型"} <= cols:
            return "jade"
        if {"问题", "违规回答"} <= cols or {"question", "unsafe_answer"} <= cols:
            return "jade_v3"
        if {"prompt", "type", "label"} <= cols:
            return "xstest"
        if xsafety_category(path) in XSAFETY:
            return "xsafety"
        raise ValueError(
            f"{path}: 无法识别的 CSV（表头 {head[:60]!r}）/ unrecognised CSV; name the format with --format"
        )
    raise ValueError(f"{path}: 不支持的文件类型 / unsupported file type (expected .jsonl or .csv)")


def load_bank(path: str | Path, fmt: str | None = None, encoding: str | None = None) -> Bank:
    """Load one file or every bank file under a folder; problems are collected, never raised."""
    path = Path(path)
    if path.is_dir():
        bank = Bank()
        for child in sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".jsonl")):
            bank.extend(load_bank(child, fmt, encoding))
        return bank
    if not path.exists():
        return Bank(problems=[Problem(str(path), "文件不存在 / file not found")])
    try:
        fmt = fmt or detect_format(path, encoding)
    except ValueError as exc:
        return Bank(problems=[Problem(str(path), str(exc))], sources=[str(path)])
    if fmt not in LOADERS:
        raise ValueError(f"unknown bank format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return LOADERS[fmt](path, encoding)


def load_banks(paths, fmt: str | None = None, encoding: str | None = None) -> Bank:
    """Several banks as one, ids de-duplicated, and risk codes joined across them."""
    bank = Bank()
    for path in paths:
        bank.extend(load_bank(path, fmt, encoding))
    bank.dedupe()
    join_risks(bank)
    return bank


def join_risks(bank: Bank) -> int:
    """Give an unmapped item the risk code of an item with the same prompt from another source.

    JADE v3 ships questions without categories, but many also appear in JADE v1/v2 with one;
    loading both fills the code in. Returns how many items gained a code.
    """
    known = {item.prompt: item.risk for item in bank.items if item.risk}
    filled = 0
    for item in bank.items:
        if item.risk is None and item.prompt in known:
            item.risk = known[item.prompt]
            filled += 1
    return filled
