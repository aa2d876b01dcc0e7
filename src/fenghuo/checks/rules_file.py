"""Reading knowledge-rule files (YAML) into validated ``RuleSpec`` objects.

A rule file (format in docs/checks.md, "Knowledge rules")::

    version: 1                      # file format version; this loader reads 1
    revision: "2026-12-04"          # the content's own version, free text (optional)
    defines:                        # named fragments, used as {{name}} in any file's patterns
      contact: '(?:微信|vx|qq)'
    rules:
      - id: ads.contact_lure
        category: ads
        risk: A3e                   # TC260-003 appendix A code
        action: flag                # block | flag
        description: {zh: ..., en: ...}
        all: ['{{contact}}', '了解|详聊']   # every pattern, all inside `within` characters
        within: 12
        unless: ['骗局|诈骗']        # optional: no finding when one of these is near
        unless_within: 10
        examples: {hit: [...], near_miss: [...]}

A pattern is a string (a Python regex over *normalised* text: lower case, simplified, spaces and
most punctuation removed — see normalize.py) or ``{orig: REGEX}`` over the original text, for
what normalisation removes (emoji, ``/``, ``.`` in a domain). Every error names the file, the
rule id and the field, so a broken edit is found without reading the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fenghuo.checks.risks import validate_risk
from fenghuo.platform import documents
from fenghuo.platform.errors import FenghuoError, SyntaxProblem

FORMAT_VERSION = 1
ACTIONS = ("block", "flag")
SIDES = ("norm", "orig")
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\Z")
_REF = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_RULE_KEYS = {"id", "category", "risk", "action", "description", "any", "all", "within", "unless", "unless_within", "examples"}
_FILE_KEYS = {"version", "revision", "defines", "rules"}
MAX_WITHIN = 500


class RulesError(ValueError):
    """A rule file that cannot be used; the message names file, rule and field."""


@dataclass(frozen=True, slots=True)
class Pattern:
    side: str  # "norm" (normalised text) or "orig" (original text)
    regex: str  # after {{define}} substitution
    field: str  # where it came from, for error messages: "all[1]"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    category: str
    risk: str
    action: str
    description: dict[str, str]
    mode: str  # "any" or "all"
    patterns: tuple[Pattern, ...]
    within: int  # for "all": the largest span (original characters) holding one match of each
    unless: tuple[Pattern, ...]
    unless_within: int
    hit: tuple[str, ...]
    near_miss: tuple[str, ...]
    source: str  # file name


@dataclass(frozen=True, slots=True)
class RuleFile:
    path: str
    version: int
    revision: str | None
    rules: tuple[RuleSpec, ...]


def read_yaml(path: Path) -> dict:
    if not path.exists():
        raise RulesError(f"{path}: no such rule file / 规则文件不存在")
    try:  # the bounded reader (size, depth, aliases, nodes; duplicate keys refused), issue 14
        raw = documents.read_yaml(path)
    except SyntaxProblem as exc:
        raise RulesError(f"invalid YAML: {exc.en} / YAML 格式错误：{exc.zh}") from None
    except FenghuoError as exc:
        raise RulesError(f"{exc.en} / {exc.zh}") from None
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: expected a mapping with 'version' and 'rules' / 顶层应为包含 version 与 rules 的映射")
    unknown = set(raw) - _FILE_KEYS
    if unknown:
        raise RulesError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_FILE_KEYS))} / 未知字段")
    if raw.get("version") != FORMAT_VERSION:
        raise RulesError(f"{path}: version: expected {FORMAT_VERSION}, got {raw.get('version')!r} / 规则文件格式版本不受支持")
    return raw


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its ``*.yaml`` files in name order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.glob("*.yaml"))
            if not found:
                raise RulesError(f"{p}: directory has no *.yaml rule files / 目录中没有规则文件")
            out += found
        else:
            out.append(p)
    return out


def _defines(raw: dict, path: Path, into: dict[str, tuple[str, str]]) -> None:
    d = raw.get("defines") or {}
    if not isinstance(d, dict):
        raise RulesError(f"{path}: defines: expected a mapping name -> regex / defines 应为映射")
    for name, value in d.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise RulesError(f"{path}: defines: bad name {name!r} (letters, digits, _) / 名称无效")
        if not isinstance(value, str) or not value:
            raise RulesError(f"{path}: defines.{name}: expected a non-empty regex string / 应为非空正则字符串")
        if name in into:
            raise RulesError(f"{path}: defines.{name}: already defined in {into[name][1]} / 重复定义")
        into[name] = (value, str(path))


def _substitute(regex: str, defines: dict[str, tuple[str, str]], where: str) -> str:
    def one(m: re.Match) -> str:
        got = defines.get(m.group(1))
        if got is None:
            raise RulesError(f"{where}: unknown define {{{{{m.group(1)}}}}} / 未定义的片段")
        return "(?:" + got[0] + ")"

    # Defines may use other defines; a few rounds cover any sensible nesting, and a cycle is an error.
    for _ in range(8):
        new = _REF.sub(one, regex)
        if new == regex:
            return new
        regex = new
    raise RulesError(f"{where}: defines nest more than 8 deep (a cycle?) / 片段嵌套过深")


def _patterns(value, where: str, defines) -> tuple[Pattern, ...]:
    if not isinstance(value, list) or not value:
        raise RulesError(f"{where}: expected a non-empty list of patterns / 应为非空模式列表")
    out = []
    for i, item in enumerate(value):
        w = f"{where}[{i}]"
        if isinstance(item, str):
            side, regex = "norm", item
        elif isinstance(item, dict) and len(item) == 1 and next(iter(item)) in SIDES:
            side, regex = next(iter(item.items()))
        else:
            raise RulesError(f"{w}: expected a regex string or {{norm: REGEX}} / {{orig: REGEX}} / 模式应为字符串或 norm/orig 映射")
        if not isinstance(regex, str) or not regex:
            raise RulesError(f"{w}: empty pattern / 模式为空")
        regex = _substitute(regex, defines, w)
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise RulesError(f"{w}: invalid regex: {exc} / 正则表达式无效") from None
        if compiled.match(""):
            raise RulesError(f"{w}: pattern matches the empty string / 模式可匹配空串")
        out.append(Pattern(side, regex, w.rsplit(": ", 1)[-1]))
    return tuple(out)


def _examples(value, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(value, dict) or set(value) - {"hit", "near_miss"}:
        raise RulesError(f"{where}: expected {{hit: [...], near_miss: [...]}} / 应为 hit 与 near_miss 列表")
    got = []
    for key in ("hit", "near_miss"):
        items = value.get(key)
        if not isinstance(items, list) or not items or not all(isinstance(t, str) and t for t in items):
            raise RulesError(f"{where}.{key}: at least one non-empty example text is required / 至少需要一个示例")
        got.append(tuple(items))
    return got[0], got[1]


def _int(value, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RulesError(f"{where}: expected a whole number {lo}..{hi}, got {value!r} / 应为 {lo}..{hi} 的整数")
    return value


def _rule(raw, path: Path, index: int, defines) -> RuleSpec:
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: rules[{index}]: expected a mapping / 规则应为映射")
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise RulesError(f"{path}: rules[{index}].id: expected a lower-case id like 'ads.task_offer', got {rid!r} / 规则 id 无效")
    at = f"{path}: rule {rid}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RulesError(f"{at}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_RULE_KEYS))} / 未知字段")
    for key in ("category", "risk", "action", "description", "examples"):
        if key not in raw:
            raise RulesError(f"{at}: {key}: missing / 缺少字段")
    cat = raw["category"]
    if not isinstance(cat, str) or not _CATEGORY.match(cat):
        raise RulesError(f"{at}: category: expected a lower-case name like 'gambling', got {cat!r} / 类别无效")
    try:
        risk = validate_risk(str(raw["risk"]), f"{at}: risk")
    except ValueError as exc:
        raise RulesError(str(exc)) from None
    action = raw["action"]
    if action not in ACTIONS:
        raise RulesError(f"{at}: action: expected one of {', '.join(ACTIONS)}, got {action!r} / 动作无效")
    desc = raw["description"]
    if not isinstance(desc, dict) or not all(isinstance(desc.get(k), str) and desc.get(k) for k in ("zh", "en")):
        raise RulesError(f"{at}: description: expected {{zh: ..., en: ...}} / 需要中英文说明")
    if ("any" in raw) == ("all" in raw):
        raise RulesError(f"{at}: exactly one of 'any' or 'all' is required / any 与 all 必须且只能有一个")
    mode = "any" if "any" in raw else "all"
    patterns = _patterns(raw[mode], f"{at}: {mode}", defines)
    if mode == "all":
        if "within" not in raw:
            raise RulesError(f"{at}: within: required with 'all' (characters that must hold all patterns) / all 需要 within")
        if len(patterns) < 2:
            raise RulesError(f"{at}: all: needs at least two patterns (use 'any' for one) / all 至少需要两个模式")
        within = _int(raw["within"], f"{at}: within", 1, MAX_WITHIN)
    else:
        if "within" in raw:
            raise RulesError(f"{at}: within: only meaningful with 'all' / within 仅用于 all")
        within = 0
    unless = _patterns(raw["unless"], f"{at}: unless", defines) if "unless" in raw else ()
    unless_within = _int(raw.get("unless_within", 10), f"{at}: unless_within", 0, MAX_WITHIN)
    hit, near = _examples(raw["examples"], f"{at}: examples")
    return RuleSpec(rid, cat, risk, action, {"zh": desc["zh"], "en": desc["en"]}, mode, patterns, within, unless, unless_within, hit, near, path.name)


def load_rule_files(paths: list[Path]) -> list[RuleFile]:
    """Read, validate and return every rule file (directories expanded); raises RulesError."""
    files = expand_paths([Path(p) for p in paths])
    raws = [(p, read_yaml(p)) for p in files]
    defines: dict[str, tuple[str, str]] = {}
    for p, raw in raws:
        _defines(raw, p, defines)
    out: list[RuleFile] = []
    seen: dict[str, str] = {}
    for p, raw in raws:
        items = raw.get("rules") or []
        if not isinstance(items, list):
            raise RulesError(f"{p}: rules: expected a list / rules 应为列表")
        specs = []
        for i, item in enumerate(items):
            spec = _rule(item, p, i, defines)
            if spec.id in seen:
                raise RulesError(f"{p}: rule {spec.id}: id already used in {seen[spec.id]} / 规则 id 重复")
            seen[spec.id] = str(p)
            specs.append(spec)
        rev = raw.get("revision")
        out.append(RuleFile(str(p), FORMAT_VERSION, None if rev is None else str(rev), tuple(specs)))
    if not seen:
        raise RulesError(f"{', '.join(map(str, files))}: no rules / 没有规则")
    return out
