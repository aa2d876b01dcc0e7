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

from fenghuo.platform.documents import LIMITS, Limits, compose_yaml, read_bytes
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


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], budget: int) -> None:
    """Record the line of every path, iteratively. A node reached through several aliases is
    walked once per path, so the walk is bounded by the expanded node count the reader
    already checked (``budget``, its limit), not by the document's text."""
    todo: list[tuple[yaml.Node, Loc]] = [(node, loc)]
    while todo and len(lines) <= budget:
        node, loc = todo.pop()
        lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
                lines[loc + (k,)] = key.start_mark.line + 1
                todo.append((value, loc + (k,)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[loc + (i,)] = item.start_mark.line + 1
                todo.append((item, loc + (i,)))


def parse_yaml(text: str | bytes, path: str = "<text>", limits: Limits = LIMITS) -> YamlDoc:
    """A YAML text through the one reader (``platform.documents``: size, depth, aliases,
    expanded nodes, duplicate keys), with the line of every key."""
    read = compose_yaml(text, path, limits)
    lines: dict[Loc, int] = {}
    if read.node is not None:
        _walk(read.node, (), lines, limits.max_nodes)
    return YamlDoc(path=path, data=read.data, lines=lines)


def load_yaml(path: str | Path, limits: Limits = LIMITS) -> YamlDoc:
    return parse_yaml(read_bytes(path, limits), str(path), limits)
