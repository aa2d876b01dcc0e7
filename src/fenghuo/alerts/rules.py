"""Rule files: YAML in the style people know from Prometheus, checked so that every trigger has
a number (把话讲明白).

    rules:
      - name: output-violations-red          # unique, lower-case, digits and dashes
        alert: output-violations             # optional: rules sharing an alert are one warning
        services: {grades: [L3, L4], sectors: [medical], ids: [...], labels: {team: core}}
        indicator: output_violation_rate     # one of monitor.catalogue.CATALOGUE
        category: A1                         # optional, violation rates only
        window: 1m
        threshold: {op: ">", value: 0.2}     # or: change: {zscore: 3, alpha: 0.2, direction: up}
        for: 0s                              # how long it must hold; 0 fires at once
        min_samples: 20                      # fewer samples in the window: the rule neither
                                             # starts nor clears (no data is not good news)
        keep_firing_for: 1m                  # flap guard (optional)
        level: red                           # blue | yellow | orange | red
        description: {zh: "…", en: "…"}

``check`` collects every mistake with file, line and field instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fenghuo.alerts.levels import Level
from fenghuo.monitor.catalogue import CATALOGUE
from fenghuo.monitor.indicators import DEFAULT_WINDOWS
from fenghuo.platform.errors import Invalid
from fenghuo.platform.validation import NAME, Problems, duration, strings, unknown_keys
from fenghuo.platform.yamlfile import YamlDoc, load_yaml, parse_yaml

OPS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}
RULE_KEYS = {"name", "alert", "services", "indicator", "category", "window", "threshold", "change", "for",
             "min_samples", "keep_firing_for", "level", "description"}
SELECTOR_KEYS = {"ids", "grades", "sectors", "labels"}
DEFAULT_KEEP_FIRING = 60.0


@dataclass(frozen=True)
class Selector:
    ids: frozenset[str] = frozenset()
    grades: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    labels: tuple[tuple[str, str], ...] = ()

    def matches(self, info) -> bool:  # monitor.directory.ServiceInfo
        if self.ids and info.id not in self.ids:
            return False
        if self.grades and info.grade not in self.grades:
            return False
        if self.sectors and info.sector not in self.sectors:
            return False
        return all(info.labels.get(k) == v for k, v in self.labels)


@dataclass(frozen=True)
class Threshold:
    op: str
    value: float

    def holds(self, x: float) -> bool:
        return OPS[self.op](float(x), self.value)

    def text(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Change:
    """An EWMA z-score against the indicator's own recent past: holds when the current value is
    more than ``zscore`` standard deviations above (or below) the exponentially weighted mean."""

    zscore: float
    alpha: float = 0.1
    direction: str = "up"  # up | down | both
    warmup: int = 10  # baseline points needed before the rule may hold

    def text(self) -> str:
        return f"EWMA z {'>' if self.direction == 'up' else '<' if self.direction == 'down' else '|>|'} {self.zscore:g}"


@dataclass(frozen=True)
class Rule:
    name: str
    alert: str
    services: Selector
    indicator: str
    window: str
    level: Level
    description_zh: str
    description_en: str
    threshold: Threshold | None = None
    change: Change | None = None
    category: str | None = None
    for_seconds: float = 0.0
    min_samples: int = 0
    keep_firing_for: float = DEFAULT_KEEP_FIRING
    source: str = ""  # file:line, for messages

    def condition_text(self) -> str:
        target = f"{self.indicator}" + (f"{{category={self.category}}}" if self.category else "") + f"[{self.window}]"
        return f"{target} {(self.threshold or self.change).text()}"  # type: ignore[union-attr]




def _number(p: Problems, loc: tuple, v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        p.add(loc, f"必须是数字，不是 {v!r}（每个触发条件都要有数值）",
              f"must be a number, not {v!r} (every trigger needs a number)")
        return None
    return float(v)




def _rule(p: Problems, i: int, r: Any, windows: dict[str, float]) -> Rule | None:
    loc = ("rules", i)
    if not isinstance(r, dict):
        p.add(loc, "每条规则必须是映射", "each rule must be a mapping")
        return None
    before = len(p.items)
    unknown_keys(p, loc, r, RULE_KEYS)
    name = r.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        p.add(loc + ("name",), "缺少或不合法：小写字母、数字和连字符", "missing or invalid: lower-case letters, digits and dashes")
    alert = r.get("alert", name)
    if "alert" in r and (not isinstance(alert, str) or not NAME.match(alert)):
        p.add(loc + ("alert",), "不合法：小写字母、数字和连字符", "invalid: lower-case letters, digits and dashes")
    sel = r.get("services", {})
    selector = Selector()
    if not isinstance(sel, dict):
        p.add(loc + ("services",), "必须是映射（ids/grades/sectors/labels）", "must be a mapping (ids/grades/sectors/labels)")
    else:
        for k in set(sel) - SELECTOR_KEYS:
            p.add(loc + ("services", k), "未知选择条件（可用：ids, grades, sectors, labels）", "unknown selector (allowed: ids, grades, sectors, labels)")
        labels = sel.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, (str, int)) for v in labels.values()):
            p.add(loc + ("services", "labels"), "必须是 键: 值 映射", "must be a key: value mapping")
            labels = {}
        selector = Selector(*(frozenset(strings(p, loc + ("services", k), sel[k])) if k in sel else frozenset() for k in ("ids", "grades", "sectors")),
                            tuple(sorted((str(k), str(v)) for k, v in labels.items())))
    ind = r.get("indicator")
    d = CATALOGUE.get(ind) if isinstance(ind, str) else None
    if d is None:
        p.add(loc + ("indicator",), f"无法测量：{ind!r} 不是指标（可用：{', '.join(CATALOGUE)}）",
              f"cannot be measured: {ind!r} is not an indicator (available: {', '.join(CATALOGUE)})")
    category = r.get("category")
    if category is not None and (d is None or not d.by_category or not isinstance(category, str)):
        p.add(loc + ("category",), "只有违规率指标可按类别（input/output_violation_rate）",
              "only violation rates take a category (input/output_violation_rate)")
    window = r.get("window")
    if window not in windows:
        p.add(loc + ("window",), f"未知窗口 {window!r}（可用：{', '.join(windows)}）", f"unknown window {window!r} (available: {', '.join(windows)})")
    threshold = change = None
    if ("threshold" in r) == ("change" in r):
        p.add(loc, "必须且只能有一个条件：threshold 或 change", "needs exactly one condition: threshold or change")
    elif "threshold" in r:
        t = r["threshold"]
        if not isinstance(t, dict) or set(t) != {"op", "value"}:
            p.add(loc + ("threshold",), "写作 {op: \">\", value: 数字}", "write it as {op: \">\", value: number}")
        else:
            if t["op"] not in OPS:
                p.add(loc + ("threshold", "op"), f"比较符必须是 {' '.join(OPS)}", f"op must be one of {' '.join(OPS)}")
            v = _number(p, loc + ("threshold", "value"), t["value"])
            if v is not None and d is not None and d.kind == "rate" and not 0 <= v <= 1:
                p.add(loc + ("threshold", "value"), f"比率阈值必须在 0 到 1 之间（{v:g}）", f"a rate threshold lies between 0 and 1 ({v:g})")
            if v is not None and v < 0:
                p.add(loc + ("threshold", "value"), "阈值不能为负", "threshold must not be negative")
            if v is not None and t["op"] in OPS:
                threshold = Threshold(t["op"], v)
    else:
        c = r["change"]
        if not isinstance(c, dict) or "zscore" not in c or set(c) - {"zscore", "alpha", "direction", "warmup"}:
            p.add(loc + ("change",), "写作 {zscore: 数字, alpha: 0..1, direction: up|down|both, warmup: 次数}",
                  "write it as {zscore: number, alpha: 0..1, direction: up|down|both, warmup: count}")
        else:
            z = _number(p, loc + ("change", "zscore"), c["zscore"])
            a = _number(p, loc + ("change", "alpha"), c.get("alpha", 0.1))
            if z is not None and z <= 0:
                p.add(loc + ("change", "zscore"), "必须大于 0", "must be greater than 0")
            if a is not None and not 0 < a <= 1:
                p.add(loc + ("change", "alpha"), "必须在 (0, 1] 内", "must lie in (0, 1]")
            direction = c.get("direction", "up")
            if direction not in ("up", "down", "both"):
                p.add(loc + ("change", "direction"), "必须是 up、down 或 both", "must be up, down or both")
            warmup = c.get("warmup", 10)
            if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 2:
                p.add(loc + ("change", "warmup"), "必须是不小于 2 的整数", "must be an integer of at least 2")
            if z is not None and a is not None:
                change = Change(z, a, direction, warmup if isinstance(warmup, int) else 10)
    for_s = duration(p, loc + ("for",), r["for"]) if "for" in r else None
    if "for" not in r:
        p.add(loc + ("for",), "缺少 for（持续多久才触发；0 表示立即）", "missing for (how long it must hold; 0 fires at once)")
    keep = duration(p, loc + ("keep_firing_for",), r["keep_firing_for"]) if "keep_firing_for" in r else DEFAULT_KEEP_FIRING
    ms = r.get("min_samples", 0)
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        p.add(loc + ("min_samples",), "必须是非负整数", "must be a non-negative integer")
        ms = 0
    elif d is not None and d.kind in ("rate", "ms") and ms < 1:
        p.add(loc + ("min_samples",), "比率和延迟规则必须给出最小样本数 ≥ 1（零次调用的比率什么也说明不了）",
              "rate and latency rules need min_samples ≥ 1 (a rate over no calls measures nothing)")
    try:
        level = Level(r.get("level"))
    except ValueError:
        p.add(loc + ("level",), "必须是 blue、yellow、orange 或 red（蓝、黄、橙、红）", "must be blue, yellow, orange or red")
        level = None
    desc = r.get("description")
    if isinstance(desc, str) and desc.strip():
        dzh = den = desc.strip()
    elif isinstance(desc, dict) and isinstance(desc.get("zh"), str) and isinstance(desc.get("en"), str):
        dzh, den = desc["zh"], desc["en"]
    else:
        p.add(loc + ("description",), "缺少说明（文字，或 {zh, en}）", "missing description (text, or {zh, en})")
        dzh = den = ""
    if len(p.items) > before:
        return None
    return Rule(name=name, alert=alert, services=selector, indicator=ind, window=window, level=level,  # type: ignore[arg-type]
                description_zh=dzh, description_en=den, threshold=threshold, change=change, category=category,
                for_seconds=for_s or 0.0, min_samples=ms, keep_firing_for=keep or 0.0,
                source=f"{p.doc.path}:{p.doc.line_of(loc)}")


def check_doc(doc: YamlDoc, windows: dict[str, float] | None = None) -> tuple[list[Rule], list[dict[str, Any]]]:
    """All rules that are right, and every problem (file, line, field, message)."""
    windows = windows or DEFAULT_WINDOWS
    p = Problems(doc)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        p.add((), "文件必须是 {rules: [...]}", "the file must be {rules: [...]}")
        return [], p.items
    for k in set(data) - {"rules", "pack"}:
        p.add((k,), "未知字段（可用：rules, pack）", "unknown field (allowed: rules, pack)")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(data["rules"]):
        rule = _rule(p, i, r, windows)
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            if r["name"] in seen:
                p.add(("rules", i, "name"), f"名称重复（第 {seen[r['name']]} 行已用）", f"duplicate name (already used on line {seen[r['name']]})")
                rule = None
            seen.setdefault(r["name"], doc.line_of(("rules", i)) or 0)
        if rule:
            rules.append(rule)
    return rules, p.items


def check_file(path: str | Path, windows: dict[str, float] | None = None) -> tuple[list[Rule], list[dict[str, Any]]]:
    try:
        doc = load_yaml(path)
    except Invalid as exc:
        return [], [{"file": exc.details.get("file"), "line": exc.details.get("line"), "field": exc.details.get("field"),
                     "problem": exc.message, "message": exc.message}]
    return check_doc(doc, windows)


def load_rules(path: str | Path, windows: dict[str, float] | None = None) -> list[Rule]:
    """Rules from a file, or Invalid naming the first problem (all of them in ``problems``)."""
    rules, problems = check_file(path, windows)
    if problems:
        first = problems[0]
        raise Invalid(first["message"].split(" / ")[0], first["message"].split(" / ", 1)[-1], code="invalid_rules",
                      file=first["file"], line=first["line"], field=first["field"], problems=problems)
    return rules


def parse_rules(text: str, path: str = "<rules>", windows: dict[str, float] | None = None) -> list[Rule]:
    rules, problems = check_doc(parse_yaml(text, path), windows)
    if problems:
        raise Invalid(problems[0]["message"], problems[0]["message"], code="invalid_rules", problems=problems)
    return rules
