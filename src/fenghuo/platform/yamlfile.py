"""YAML files that can say *where* they are wrong.

Registrations, grading tables, rules and plans are YAML a person writes; when one is wrong the
message must name the file, the line and the field. PyYAML's composed node tree keeps the
position of every key, so we load through it and keep a map from field path to line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fenghuo.platform.errors import Invalid

Loc = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """Parsed data plus the line (1-based) of every mapping key and sequence item."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def error(self, loc: Sequence[str | int], problem_zh: str, problem_en: str) -> Invalid:
        line = self.line_of(loc)
        where = f"{self.path}:{line}" if line else self.path
        dotted = ".".join(str(p) for p in loc) or "(document)"
        return Invalid(
            f"{where} 字段 {dotted}：{problem_zh}",
            f"{where} field {dotted}: {problem_en}",
            code="invalid_file",
            file=self.path,
            line=line,
            field=dotted,
        )

    def validation_error(self, exc: ValidationError, prefix: Loc = ()) -> Invalid:
        """Turn the first pydantic error into a file/line/field message (all listed in details)."""
        problems = []
        for err in exc.errors():
            loc = prefix + tuple(err["loc"])
            problems.append({"field": ".".join(str(p) for p in loc), "line": self.line_of(loc), "problem": err["msg"]})
        first = exc.errors()[0]
        e = self.error(prefix + tuple(first["loc"]), first["msg"], first["msg"])
        e.details["problems"] = problems
        return e


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            lines[loc + (k,)] = key.start_mark.line + 1
            _walk(value, loc + (k,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[loc + (i,)] = item.start_mark.line + 1
            _walk(item, loc + (i,), lines)


def parse_yaml(text: str, path: str = "<text>") -> YamlDoc:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise Invalid(
            f"{path}:{line} YAML 语法错误：{exc.problem}",
            f"{path}:{line} YAML syntax error: {exc.problem}",
            code="invalid_file",
            file=path,
            line=line,
            field=None,
        ) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDoc(path=path, data=data, lines=lines)


def load_yaml(path: str | Path) -> YamlDoc:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Invalid(f"文件不存在：{p}", f"file not found: {p}", code="invalid_file", file=str(p)) from None
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"{p} 不是 UTF-8 编码（第 {exc.start} 字节）",
            f"{p} is not UTF-8 (byte {exc.start})",
            code="invalid_file",
            file=str(p),
        ) from None
    return parse_yaml(text, str(p))
