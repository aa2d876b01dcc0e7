"""Emergency plans (应急预案) as YAML, checked so that every step can actually be carried out.

    plan: medical-high                 # id: lower-case letters, digits, dashes
    version: "2026.11-1"
    title: {zh: "医疗高风险服务应急预案", en: "Medical high-risk plan"}
    applies_to: {sectors: [medical], grades: [L3, L4]}   # or {services: [...]} or {default: true}
    text: {zh: "…", en: "…"}          # the plan's human text (checked for vague words)
    owner: 值班经理 duty manager       # default owner of every action
    people: {operator: [alice, amir]}  # optional roster: who can approve, per role
    triggers:
      - id: red
        when: {level: red, for: 0s}    # or {at_least: orange}; optional alerts: [names]
        actions:
          - {id: pause, do: pause, approval: auto}
          - {id: incident, do: open_incident, grade: 特别重大}
          - {id: notify, do: notify, channels: [oncall]}
          - {id: stop-later, do: stop, after: 30m, approval: {role: operator, count: 2}}
          - {id: tell-regulator, do: escalate, after: 1h, to: [regulator-liaison]}

An action with ``after`` runs only if its warning is still firing that long after it fired —
that is how a plan escalates. ``check`` collects every mistake with file, line and field; a
plan with any mistake is refused whole (把话讲明白: a plan nobody can execute is not a plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fenghuo.alerts.levels import Level
from fenghuo.control.transitions import TABLE, Action
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role
from fenghuo.platform.validation import NAME, Problems, duration, rate_problem, strings, unknown_keys
from fenghuo.platform.yamlfile import YamlDoc, load_yaml, parse_yaml
from fenghuo.response import incident_grades as grades

PLAN_KEYS = {"plan", "version", "title", "applies_to", "text", "owner", "people", "triggers"}
TRIGGER_KEYS = {"id", "when", "actions"}
WHEN_KEYS = {"level", "at_least", "for", "alerts"}
ACTION_KEYS = {"id", "do", "owner", "approval", "after", "rate", "channels", "grade", "to", "reason"}
KINDS = {"notify", "degrade", "throttle", "pause", "stop", "open_incident", "escalate"}
SWITCH_KINDS = {"degrade": Action.degrade, "throttle": Action.throttle, "pause": Action.pause, "stop": Action.stop}
APPROVER_ROLES = {Role.operator, Role.regulator, Role.admin}  # people; never system, never auditor
MAX_APPROVALS = 5
# The source's complaint about rules nobody can act on (see DESIGN.md, 把话讲明白).
VAGUE = ("原则上", "理论上", "必要时", "视情况", "适当")


@dataclass(frozen=True)
class ApprovalRule:
    role: Role
    count: int


@dataclass(frozen=True)
class PlanAction:
    id: str
    do: str
    owner: str
    approval: ApprovalRule | None = None  # None: runs automatically (actor role system)
    after: float = 0.0  # seconds after the warning fired; > 0 makes it an escalation
    rate: int | None = None
    channels: tuple[str, ...] = ()
    grade: str | None = None  # open_incident; None: from the warning level (red → 特别重大 …)
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def switch_action(self) -> Action | None:
        return SWITCH_KINDS.get(self.do)


@dataclass(frozen=True)
class Trigger:
    id: str
    level: Level
    at_least: bool
    for_seconds: float
    alerts: frozenset[str]
    actions: tuple[PlanAction, ...]

    def matches(self, level: Level, alert: str) -> bool:
        if self.alerts and alert not in self.alerts:
            return False
        return level >= self.level if self.at_least else level == self.level

    def condition_text(self) -> str:
        lv = f"level ≥ {self.level.value}" if self.at_least else f"level = {self.level.value}"
        alerts = f", alert in {sorted(self.alerts)}" if self.alerts else ""
        return f"{lv}{alerts}, firing for ≥ {self.for_seconds:g}s"


@dataclass(frozen=True)
class Plan:
    id: str
    version: str
    title_zh: str
    title_en: str
    services: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    grades: frozenset[str] = frozenset()
    default: bool = False
    triggers: tuple[Trigger, ...] = ()
    path: str = ""
    warnings: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"




def _text(p: Problems, loc: tuple, v: Any, required: bool = True) -> tuple[str, str]:
    if isinstance(v, str) and v.strip():
        return v.strip(), v.strip()
    if isinstance(v, dict) and isinstance(v.get("zh"), str) and isinstance(v.get("en"), str) and v["zh"].strip() and v["en"].strip():
        return v["zh"].strip(), v["en"].strip()
    if required or v is not None:
        p.add(loc, "需要文字，或 {zh: …, en: …}", "needs text, or {zh: …, en: …}")
    return "", ""




def _approval(p: Problems, loc: tuple, v: Any, kind: str, people: dict[str, list[str]]) -> ApprovalRule | None:
    if v in (None, "auto"):
        return None
    if not isinstance(v, dict) or set(v) - {"role", "count"} or "role" not in v:
        p.add(loc, "写作 auto，或 {role: operator|regulator|admin, count: 人数}", "write auto, or {role: operator|regulator|admin, count: people}")
        return None
    try:
        role = Role(v["role"])
    except ValueError:
        p.add(loc + ("role",), f"未知角色 {v['role']!r}：无人能审批", f"unknown role {v['role']!r}: nobody can give this approval")
        return None
    count = v.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_APPROVALS:
        p.add(loc + ("count",), f"人数必须是 1–{MAX_APPROVALS} 的整数", f"count must be an integer from 1 to {MAX_APPROVALS}")
        return None
    if role not in APPROVER_ROLES:
        p.add(loc + ("role",), f"角色 {role.value} 不能审批（system 是自动执行者，auditor 只能查看）：无人能审批",
              f"role {role.value} cannot approve (system is the automation itself, auditor only reads): nobody can give this approval")
        return None
    action = SWITCH_KINDS.get(kind)
    if action is None:
        p.add(loc, f"{kind} 不是开关指令，不需要审批；写 auto", f"{kind} is not a switch command and takes no approval; write auto")
        return None
    if role not in TABLE[action].roles:
        allowed = sorted(r.value for r in TABLE[action].roles if r in APPROVER_ROLES)
        p.add(loc + ("role",), f"角色 {role.value} 无权执行 {action.value}，因而无人能审批（可选：{', '.join(allowed)}）",
              f"role {role.value} may not {action.value}, so nobody can give this approval (possible: {', '.join(allowed)})")
        return None
    roster = people.get(role.value)
    if roster is not None and count > len(roster):
        p.add(loc + ("count",), f"需要 {count} 名不同的 {role.value}，名单中只有 {len(roster)} 人：无人能凑齐审批",
              f"needs {count} distinct {role.value}s but the roster names {len(roster)}: the approval can never be complete")
        return None
    return ApprovalRule(role, count)


def _action(p: Problems, loc: tuple, a: Any, default_owner: str, people: dict[str, list[str]]) -> PlanAction | None:
    if not isinstance(a, dict):
        p.add(loc, "每个动作必须是映射", "each action must be a mapping")
        return None
    before = len(p.items)
    unknown_keys(p, loc, a, ACTION_KEYS)
    aid = a.get("id")
    if not isinstance(aid, str) or not NAME.match(aid):
        p.add(loc + ("id",), "缺少或不合法：小写字母、数字和连字符", "missing or invalid: lower-case letters, digits and dashes")
    kind = a.get("do")
    if kind not in KINDS:
        p.add(loc + ("do",), f"未知动作 {kind!r}（可用：{', '.join(sorted(KINDS))}）", f"unknown action {kind!r} (known: {', '.join(sorted(KINDS))})")
        return None
    owner = a.get("owner", default_owner)
    if not isinstance(owner, str) or not owner.strip():
        p.add(loc + ("owner",), "动作没有负责人：写 owner（或在预案顶层写默认 owner）",
              "the action has no owner: give owner (or a default owner at the top of the plan)")
        owner = ""
    after = 0.0
    if "after" in a:
        after = duration(p, loc + ("after",), a["after"]) or 0.0
    if kind == "escalate" and not after:
        p.add(loc + ("after",), "升级没有时限：写 after（如 30m）说明多久未解除就升级",
              "an escalation without a deadline: give after (e.g. 30m), how long unresolved before it escalates")
    rate = None
    if kind == "throttle":
        rate = a.get("rate")
        if rate is None:
            p.add(loc + ("rate",), "限流必须给出正整数速率 rate（次/秒）", "throttle needs a positive integer rate (requests/second)")
        elif (why := rate_problem(rate)) is not None:
            p.add(loc + ("rate",), *why)
    elif "rate" in a:
        p.add(loc + ("rate",), "只有 throttle 使用 rate", "only throttle takes a rate")
    channels: tuple[str, ...] = ()
    if kind == "notify":
        channels = strings(p, loc + ("channels",), a.get("channels"), non_empty=True)
    elif kind == "escalate":
        channels = strings(p, loc + ("to",), a.get("to"), non_empty=True)
    grade = None
    if kind == "open_incident" and "grade" in a:  # without a grade: from the warning level (CN-EP-01)
        try:
            grade = grades.normalise(a.get("grade"))
        except ValueError:
            p.add(loc + ("grade",), f"事件分级 {a.get('grade')!r} 不合法（一般/较大/重大/特别重大 或 IV/III/II/I）",
                  f"incident grade {a.get('grade')!r} is not valid (一般/较大/重大/特别重大 or IV/III/II/I)")
    approval = _approval(p, loc + ("approval",), a.get("approval"), kind, people)
    rzh, ren = _text(p, loc + ("reason",), a.get("reason"), required=False)
    if len(p.items) > before:
        return None
    return PlanAction(id=aid, do=kind, owner=owner.strip(), approval=approval, after=after, rate=rate,
                      channels=channels, grade=grade, reason_zh=rzh, reason_en=ren)


def _trigger(p: Problems, loc: tuple, t: Any, default_owner: str, people: dict[str, list[str]]) -> Trigger | None:
    if not isinstance(t, dict):
        p.add(loc, "每个触发条件必须是映射", "each trigger must be a mapping")
        return None
    before = len(p.items)
    unknown_keys(p, loc, t, TRIGGER_KEYS)
    tid = t.get("id")
    if not isinstance(tid, str) or not NAME.match(tid):
        p.add(loc + ("id",), "缺少或不合法：小写字母、数字和连字符", "missing or invalid: lower-case letters, digits and dashes")
    when = t.get("when")
    level, at_least, for_s, alerts = None, False, 0.0, frozenset()
    if not isinstance(when, dict) or not ({"level", "at_least"} & set(when)):
        p.add(loc + ("when",), f"触发条件不可测量：{when!r}；写 {{level: red}} 或 {{at_least: orange}}（可加 for、alerts）",
              f"the trigger has no measurable condition: {when!r}; write {{level: red}} or {{at_least: orange}} (optionally for, alerts)")
    else:
        for k in sorted(set(when) - WHEN_KEYS):
            p.add(loc + ("when", k), f"不可测量的条件（可用：{', '.join(sorted(WHEN_KEYS))}）",
                  f"not a measurable condition (allowed: {', '.join(sorted(WHEN_KEYS))})")
        if "level" in when and "at_least" in when:
            p.add(loc + ("when",), "level 与 at_least 只能写一个", "give level or at_least, not both")
        key = "at_least" if "at_least" in when else "level"
        at_least = key == "at_least"
        try:
            level = Level(when[key])
        except ValueError:
            p.add(loc + ("when", key), f"预警级别必须是 blue、yellow、orange 或 red，不是 {when[key]!r}",
                  f"the warning level must be blue, yellow, orange or red, not {when[key]!r}")
        if "for" in when:
            for_s = duration(p, loc + ("when", "for"), when["for"]) or 0.0
        if "alerts" in when:
            alerts = frozenset(strings(p, loc + ("when", "alerts"), when["alerts"], non_empty=True))
    actions_raw = t.get("actions")
    actions: list[PlanAction] = []
    if not isinstance(actions_raw, list) or not actions_raw:
        p.add(loc + ("actions",), "触发条件必须至少有一个动作", "a trigger needs at least one action")
    else:
        seen: set[str] = set()
        for i, a in enumerate(actions_raw):
            act = _action(p, loc + ("actions", i), a, default_owner, people)
            if act is not None:
                if act.id in seen:
                    p.add(loc + ("actions", i, "id"), f"动作 id {act.id} 重复", f"duplicate action id {act.id}")
                seen.add(act.id)
                actions.append(act)
    if len(p.items) > before or level is None:
        return None
    return Trigger(id=tid, level=level, at_least=at_least, for_seconds=for_s, alerts=alerts, actions=tuple(actions))


def _vague(p: Problems, loc: tuple, v: Any) -> None:
    if isinstance(v, str):
        for word in VAGUE:
            if word in v:
                p.warn(loc, f"含模糊用语「{word}」：写明条件、数值、负责人和时限",
                       f"vague wording 「{word}」: state the condition, number, owner and deadline instead")
    elif isinstance(v, dict):
        for k, x in v.items():
            _vague(p, loc + (k,), x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _vague(p, loc + (i,), x)


def check_doc(doc: YamlDoc) -> tuple[Plan | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """(the plan or None, every problem, every vague-wording warning)."""
    p = Problems(doc)
    d = doc.data
    if not isinstance(d, dict):
        p.add((), "预案文件必须是映射 {plan, version, title, applies_to, triggers}", "a plan file must be a mapping {plan, version, title, applies_to, triggers}")
        return None, p.items, p.warnings
    _vague(p, (), d)
    unknown_keys(p, (), d, PLAN_KEYS)
    pid = d.get("plan")
    if not isinstance(pid, str) or not NAME.match(pid):
        p.add(("plan",), "缺少或不合法的预案 id（小写字母、数字和连字符）", "missing or invalid plan id (lower-case letters, digits, dashes)")
    version = d.get("version")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
        p.add(("version",), "缺少版本号", "missing version")
    tzh, ten = _text(p, ("title",), d.get("title"))
    _text(p, ("text",), d.get("text"), required=False)
    applies = d.get("applies_to")
    services = sectors = grade_ids = frozenset()
    default = False
    if not isinstance(applies, dict) or not applies or set(applies) - {"services", "sectors", "grades", "default"}:
        p.add(("applies_to",), "写明适用范围：{services: [...]}、{sectors: [...], grades: [...]} 或 {default: true}",
              "say what it applies to: {services: [...]}, {sectors: [...], grades: [...]} or {default: true}")
    else:
        default = applies.get("default") is True
        services = frozenset(strings(p, ("applies_to", "services"), applies["services"], non_empty=True)) if "services" in applies else frozenset()
        sectors = frozenset(strings(p, ("applies_to", "sectors"), applies["sectors"], non_empty=True)) if "sectors" in applies else frozenset()
        grade_ids = frozenset(strings(p, ("applies_to", "grades"), applies["grades"], non_empty=True)) if "grades" in applies else frozenset()
        if "default" in applies and not isinstance(applies["default"], bool):
            p.add(("applies_to", "default"), "必须是 true 或 false", "must be true or false")
    owner = d.get("owner", "")
    if owner and not isinstance(owner, str):
        p.add(("owner",), "负责人必须是文字", "owner must be text")
        owner = ""
    people = d.get("people", {})
    if not isinstance(people, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in people.values()):
        p.add(("people",), "写作 {角色: [姓名, …]}", "write it as {role: [name, …]}")
        people = {}
    triggers: list[Trigger] = []
    raw = d.get("triggers")
    if not isinstance(raw, list) or not raw:
        p.add(("triggers",), "预案至少需要一个触发条件", "a plan needs at least one trigger")
    else:
        seen: set[str] = set()
        for i, t in enumerate(raw):
            trig = _trigger(p, ("triggers", i), t, owner or "", people)
            if trig is not None:
                if trig.id in seen:
                    p.add(("triggers", i, "id"), f"触发条件 id {trig.id} 重复", f"duplicate trigger id {trig.id}")
                seen.add(trig.id)
                triggers.append(trig)
    if p.items:
        return None, p.items, p.warnings
    plan = Plan(id=pid, version=str(version), title_zh=tzh, title_en=ten, services=services, sectors=sectors,
                grades=grade_ids, default=default, triggers=tuple(triggers), path=doc.path, warnings=tuple(p.warnings))
    return plan, [], p.warnings


def check_file(path: str | Path) -> tuple[Plan | None, list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        doc = load_yaml(path)
    except Invalid as exc:
        item = {"file": exc.details.get("file"), "line": exc.details.get("line"), "field": exc.details.get("field"),
                "problem": exc.message, "message": exc.message}
        return None, [item], []
    return check_doc(doc)


def _raise(problems: list[dict[str, Any]]) -> None:
    first = problems[0]
    zh, _, en = first["message"].partition(" / ")
    raise Invalid(zh, en or zh, code="invalid_plan", file=first["file"], line=first["line"], field=first["field"],
                  problems=problems)


def load_plan(path: str | Path) -> Plan:
    """A plan from a file, or Invalid naming the first problem (all of them in ``problems``)."""
    plan, problems, _ = check_file(path)
    if problems:
        _raise(problems)
    return plan  # type: ignore[return-value]


def parse_plan(text: str, path: str = "<plan>") -> Plan:
    plan, problems, _ = check_doc(parse_yaml(text, path))
    if problems:
        _raise(problems)
    return plan  # type: ignore[return-value]
