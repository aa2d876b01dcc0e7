"""Reading labelled training data: CSV or JSONL, one label or several per text.

Accepted shapes (columns and keys are found by name, case-insensitively):

* CSV with ``text`` (or COLD's ``TEXT``) and ``label``: ``1``/``0`` (offensive/unsafe vs safe,
  COLD's format; ``1`` means the ``binary_category``), or category names;
* CSV with ``text`` and ``labels``: names joined with ``|`` (``porn|gambling``); empty, ``0``,
  ``safe`` or ``none`` means harmless;
* JSONL ``{"text": …, "labels": ["porn", …]}`` or ``{"text": …, "label": "porn" | 0 | 1}``.

A bad row is refused with ``file:line`` and what is wrong, so a user can fix it; a non-UTF-8
file names the first bad line (GBK exports from Excel are the usual cause).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np

SAFE = {"", "0", "safe", "none", "harmless", "ok"}
_NAME = re.compile(r"^[a-z][a-z0-9_.]*$")
_SPLIT = re.compile(r"[|,;]")


def decode(path: Path) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}:{line}: not UTF-8 (byte {data[exc.start]:#04x}); save the file as UTF-8 (GBK/GB18030 exports need converting) "
            f"/ 第{line}行不是 UTF-8 编码，请另存为 UTF-8"
        ) from None


def parse_labels(value, where: str, binary_category: str) -> frozenset[str]:
    """One row's label field → the set of category names it carries (empty = harmless)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{where}: label must be 0/1 or category names, got {value!r} / 标签应为 0/1 或类别名")
    if isinstance(value, int | float):
        if value in (0, 1):
            return frozenset({binary_category}) if value == 1 else frozenset()
        raise ValueError(f"{where}: label must be 0 or 1, got {value!r} / 标签应为 0 或 1")
    items = value if isinstance(value, list) else _SPLIT.split(str(value))
    out = set()
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            out |= parse_labels(item, where, binary_category)
            continue
        tok = str(item).strip().lower()
        if tok in SAFE:
            continue
        if tok == "1":
            out.add(binary_category)
        elif _NAME.match(tok):
            out.add(tok)
        else:
            raise ValueError(
                f"{where}: label must be 0 or 1 or category names like 'porn|gambling', got {str(item)!r} / 标签应为 0/1 或类别名（如 porn|gambling）"
            )
    return frozenset(out)


def read_csv(path: Path, limit: int | None = None, binary_category: str = "offensive") -> tuple[list[str], list[frozenset[str]]]:
    text = decode(path)
    texts, labels = [], []
    try:
        with io.StringIO(text, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise ValueError(f"{path}: empty file / 文件为空")
            cols = {h.strip().lower(): i for i, h in enumerate(header)}
            li = cols.get("labels", cols.get("label"))
            if li is None or "text" not in cols:
                raise ValueError(f"{path}: needs columns 'label' (or 'labels') and 'text' (found: {', '.join(header)}) / 缺少 label 或 text 列")
            ti = cols["text"]
            for n, row in enumerate(reader, 2):
                if limit is not None and len(texts) >= limit:
                    break
                if not row:
                    continue
                if max(ti, li) >= len(row):
                    raise ValueError(f"{path}:{n}: {len(row)} column(s), expected {len(header)} / 列数不足")
                labels.append(parse_labels(row[li], f"{path}:{n}", binary_category))
                texts.append(row[ti])
    except csv.Error as exc:  # e.g. a NUL byte: the csv module names the line in its message
        raise ValueError(f"{path}: malformed CSV: {exc} / CSV 格式错误") from None
    return texts, labels


def read_jsonl(path: Path, limit: int | None = None, binary_category: str = "offensive") -> tuple[list[str], list[frozenset[str]]]:
    texts, labels = [], []
    for n, line in enumerate(decode(path).splitlines(), 1):
        if limit is not None and len(texts) >= limit:
            break
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg}) / 第{n}行不是 JSON") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise ValueError(f"{path}:{n}: expected an object with a string 'text' / 需要含 text 字段的对象")
        if "labels" in obj:
            value = obj["labels"]
        elif "label" in obj:
            value = obj["label"]
        else:
            raise ValueError(f"{path}:{n}: no 'labels' or 'label' / 缺少 labels 或 label")
        labels.append(parse_labels(value, f"{path}:{n}", binary_category))
        texts.append(obj["text"])
    return texts, labels


def read_dataset(path: str | Path, limit: int | None = None, binary_category: str = "offensive") -> tuple[list[str], list[frozenset[str]]]:
    """Texts and their label sets from a .csv or .jsonl file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file / 文件不存在")
    reader = read_jsonl if path.suffix.lower() in (".jsonl", ".json", ".ndjson") else read_csv
    texts, labels = reader(path, limit, binary_category)
    if not texts:
        raise ValueError(f"{path}: no labelled rows / 无标注数据")
    return texts, labels


def read_labelled(path: Path, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """COLD-style binary data: texts and 0/1 labels (a named label is refused here)."""
    texts, sets = read_dataset(path, limit)
    for i, s in enumerate(sets):
        if s - {"offensive"}:
            raise ValueError(f"{path}: row {i + 1}: label must be 0 or 1, got {'|'.join(sorted(s))} / 标签应为 0 或 1")
    return texts, np.array([1 if s else 0 for s in sets])
