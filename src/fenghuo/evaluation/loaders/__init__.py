"""Read any supported bank file (or a folder of them) into our one bank shape.

The format is recognised from the file itself (header row or JSON keys), not only from its
name, so a user's renamed copy still loads; ``fmt`` forces it when detection is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from fenghuo.evaluation.bank import Bank, read_bank
from fenghuo.evaluation.loaders.mapping import XSAFETY
from fenghuo.evaluation.loaders.public import (
    load_cvalues,
    load_flames,
    load_jade,
    load_jade_v3,
    load_xsafety,
    load_xstest,
    xsafety_category,
)
from fenghuo.evaluation.textfile import Problem

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


def _first_line(path: Path) -> str:
    raw = path.read_bytes()[:4096]
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc).splitlines()[0] if raw else ""
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace").splitlines()[0] if raw else ""


def detect_format(path: str | Path) -> str:
    """Which loader fits the file; raises ``ValueError`` naming the file when none does."""
    path = Path(path)
    head = _first_line(path).strip()
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
        fmt = fmt or detect_format(path)
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
