"""The one reader for untrusted documents (YAML and JSON): request bodies and the files a
command is given. Every document passes the same limits before anything is built from it:

- size (``max_bytes``): over it → :class:`DocumentTooLarge` (HTTP 413);
- nesting depth (``max_depth``), YAML alias count (``max_aliases``), and node count
  *after alias expansion* (``max_nodes``): over any → :class:`DocumentLimit` (HTTP 422),
  naming the limit, its value and where the document broke it.

Why a pre-pass over YAML events and not a guard inside the loader: a ~300-byte document of
nested anchors ("billion laughs") expands to 10⁹ nodes only when something walks it; the
parser's event stream is linear in the *text*, so counting each anchor's expanded size there
(an alias adds the size its anchor had when it closed) refuses the bomb after reading its few
hundred bytes, before a node tree exists. Depth is counted on the same pass, so the recursive
composer and constructor never see a document deeper than ``max_depth`` (``[`` × 50,000 used
to end in a RecursionError). An alias to an anchor that is still open (a recursive document)
is refused too: nothing downstream can walk a cycle.

JSON goes through orjson (its own depth cap is 1,024, and it raises instead of recursing), then
one iterative walk checks depth and node count against the same limits.

Pure (PyYAML and orjson only, no framework): the validation kit and the pure cores use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from fenghuo.platform.errors import DocumentLimit, DocumentTooLarge, Invalid, SyntaxProblem, Unreadable


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Limits:
    """What one document may hold. The defaults fit every file fenghuo ships with a wide margin
    (the largest, a grading table, is ~3,000 nodes and 7 deep)."""

    max_bytes: int = _env_int("FENGHUO_DOC_MAX_BYTES", 4 * 1024 * 1024)
    max_depth: int = 64
    max_aliases: int = 1_000
    max_nodes: int = 500_000


LIMITS = Limits()

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _limit(path: str, line: int | None, limit: str, value: int, zh: str, en: str) -> DocumentLimit:
    where = _where(path, line)
    return DocumentLimit(f"{where} 文档超出上限 {limit}={value}：{zh}", f"{where} document exceeds {limit}={value}: {en}",
                         limit=limit, value=value, file=path, line=line)


def check_size(size: int, path: str, limits: Limits = LIMITS) -> None:
    if size > limits.max_bytes:
        raise DocumentTooLarge(f"{path} 大小 {size} 字节，超出上限 max_bytes={limits.max_bytes}",
                               f"{path} is {size} bytes, over the limit max_bytes={limits.max_bytes}",
                               limit="max_bytes", value=limits.max_bytes, file=path)


def as_text(data: bytes | str, path: str, limits: Limits = LIMITS) -> str:
    """Bytes (a request body, a file) as UTF-8 text, after the size check."""
    if isinstance(data, str):
        check_size(len(data), path, limits)
        return data
    check_size(len(data), path, limits)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{path} 不是 UTF-8 编码（第 {exc.start} 字节）", f"{path} is not UTF-8 (byte {exc.start})",
                         file=path) from None


def read_bytes(path: str | Path, limits: Limits = LIMITS) -> bytes:
    """A file's bytes, refusing one over ``max_bytes`` before reading it whole; a file that
    cannot be read is one clear error (not found, a directory, no permission)."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            check_size(size, str(p), limits)
            data = fh.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise Unreadable(f"文件不存在：{p}", f"file not found: {p}", file=str(p)) from None
    except IsADirectoryError:
        raise Unreadable(f"{p} 是目录，不是文件", f"{p} is a directory, not a file", file=str(p)) from None
    except PermissionError:
        raise Unreadable(f"无权读取 {p}", f"permission denied reading {p}", file=str(p)) from None
    except OSError as exc:
        raise Unreadable(f"无法读取 {p}：{exc.strerror}", f"cannot read {p}: {exc.strerror}", file=str(p)) from None
    check_size(len(data), str(p), limits)  # a file that grew, or a pipe with no size
    return data


def read_text(path: str | Path, limits: Limits = LIMITS) -> str:
    return as_text(read_bytes(path, limits), str(path), limits)


# --- YAML ---------------------------------------------------------------------------------


def scan_yaml(text: str, path: str = "<text>", limits: Limits = LIMITS) -> None:
    """Refuse a YAML text over the depth, alias or expanded-node limits, reading its events once
    (see the module docstring). Syntax errors are left to the composer, which names the line."""
    sizes: dict[str, int] = {}  # anchor → expanded node count of what it names
    open_anchors: set[str] = set()
    stack: list[list[Any]] = []  # [anchor, expanded size so far]
    total = aliases = 0
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            if isinstance(ev, _START):
                if len(stack) >= limits.max_depth:
                    raise _limit(path, ev.start_mark.line + 1, "max_depth", limits.max_depth,
                                 "嵌套过深", "nested too deeply")
                if ev.anchor:
                    open_anchors.add(ev.anchor)
                stack.append([ev.anchor, 1])
                size = 1
            elif isinstance(ev, _END):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
                    open_anchors.discard(anchor)
                if stack:
                    stack[-1][1] += size
                continue  # counted in total as its items arrived
            elif isinstance(ev, yaml.ScalarEvent):
                size = 1
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                line = ev.start_mark.line + 1
                if aliases > limits.max_aliases:
                    raise _limit(path, line, "max_aliases", limits.max_aliases, "别名（*引用）过多", "too many aliases (*references)")
                if ev.anchor in open_anchors:
                    raise _limit(path, line, "max_depth", limits.max_depth, f"别名 *{ev.anchor} 引用了包含它自身的节点（无限嵌套）",
                                 f"alias *{ev.anchor} refers to a node that contains it (endless nesting)")
                size = sizes.get(ev.anchor, 1)  # an undefined alias: the composer names it
            else:
                continue
            total += size
            if total > limits.max_nodes:
                raise _limit(path, ev.start_mark.line + 1, "max_nodes", limits.max_nodes,
                             "展开别名后节点过多", "too many nodes once aliases are expanded")
            if stack and not isinstance(ev, _START):
                stack[-1][1] += size
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own cap, met before ours on a flow `[[[[…`
            mark = getattr(exc, "problem_mark", None)
            raise _limit(path, mark.line + 1 if mark else None, "max_depth", limits.max_depth,
                         "嵌套过深", "nested too deeply") from None
        return  # the composer reports it with its line


class _UniqueKeys(_Loader):  # type: ignore[misc, valid-type]
    """Safe loading that refuses a key written twice in one mapping (PyYAML keeps the last one
    silently; in a hand-written file it is an edit mistake). Keys brought in by a ``<<`` merge
    may be overridden, as YAML intends."""


def _construct_mapping(loader, node, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if isinstance(key_node, yaml.ScalarNode):
            key = loader.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise DuplicateKey(key, seen[key], line)
                seen[key] = line
            except TypeError:
                pass
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, again: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key, self.first, self.again = key, first, again


@dataclass(slots=True)
class YamlRead:
    node: yaml.Node | None
    data: Any


def compose_yaml(data: bytes | str, path: str = "<text>", limits: Limits = LIMITS) -> YamlRead:
    """Check ``data`` against ``limits``, then compose it once and construct its value from the
    same node tree (the tree keeps every key's line). Raises ``DocumentTooLarge``,
    ``DocumentLimit``, ``Unreadable`` (not UTF-8) or :class:`SyntaxProblem`."""
    text = as_text(data, path, limits)
    scan_yaml(text, path, limits)
    loader = _UniqueKeys(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except DuplicateKey as exc:
        raise Invalid(f"{path}:{exc.again} 键 {exc.key!r} 重复（第一次在第 {exc.first} 行）",
                            f"{path}:{exc.again} duplicate key {exc.key!r} (first at line {exc.first})",
                            code="duplicate_key", file=path, line=exc.again, field=str(exc.key)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SyntaxProblem(f"{_where(path, line)} YAML 语法错误：{exc.problem}",
                            f"{_where(path, line)} YAML syntax error: {exc.problem}",
                            code="invalid_file", file=path, line=line, field=None) from None
    except yaml.YAMLError as exc:
        raise SyntaxProblem(f"{path} YAML 错误：{exc}", f"{path} YAML error: {exc}", code="invalid_file", file=path,
                            line=None, field=None) from None
    finally:
        loader.dispose()
    return YamlRead(node, value)


def load_yaml_data(data: bytes | str, path: str = "<text>", limits: Limits = LIMITS) -> Any:
    return compose_yaml(data, path, limits).data


def read_yaml(path: str | Path, limits: Limits = LIMITS) -> Any:
    """A YAML file's value, through every limit."""
    return compose_yaml(read_bytes(path, limits), str(path), limits).data


# --- JSON ---------------------------------------------------------------------------------


def check_tree(value: Any, path: str, limits: Limits = LIMITS) -> None:
    """Depth and node count of a decoded value, walked without recursion."""
    todo: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while todo:
        v, depth = todo.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise _limit(path, None, "max_nodes", limits.max_nodes, "节点过多", "too many nodes")
        if isinstance(v, dict):
            items = v.values()
        elif isinstance(v, list):
            items = v
        else:
            continue
        if depth > limits.max_depth:
            raise _limit(path, None, "max_depth", limits.max_depth, "嵌套过深", "nested too deeply")
        todo.extend((x, depth + 1) for x in items)


def load_json(data: bytes | str, path: str = "<text>", limits: Limits = LIMITS) -> Any:
    """A JSON document's value, through every limit. Not JSON → :class:`SyntaxProblem`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    check_size(len(raw), path, limits)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise _limit(path, None, "max_depth", limits.max_depth, "嵌套过深", "nested too deeply") from None
        raise SyntaxProblem(f"{path} 不是有效 JSON：{exc}", f"{path} is not valid JSON: {exc}", code="invalid_json",
                            file=path) from None
    except RecursionError:
        raise _limit(path, None, "max_depth", limits.max_depth, "嵌套过深", "nested too deeply") from None
    check_tree(value, path, limits)
    return value


def read_json(path: str | Path, limits: Limits = LIMITS) -> Any:
    return load_json(read_bytes(path, limits), str(path), limits)


def read_document(path: str | Path, limits: Limits = LIMITS) -> Any:
    """A file by its name: ``*.json`` as JSON, anything else as YAML (JSON is YAML too)."""
    return read_json(path, limits) if str(path).endswith(".json") else read_yaml(path, limits)

