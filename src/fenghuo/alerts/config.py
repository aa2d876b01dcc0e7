"""The alerting configuration: which rule files and packs are loaded, the notification channels
and how warnings are grouped. One YAML file, named by FENGHUO_ALERTS (or passed in code):

    packs: default            # the shipped packs (per grade and sector); or a list of names; or none
    rules: [my-rules.yaml]    # more rule files (relative to this file)
    group_by: [service, alert]
    repeat_interval: 4h       # re-notify a firing warning nobody has acknowledged; 0 = never
    channels:
      - {name: ops, type: webhook, url: "https://…", secret: "…", levels: [orange, red]}
      - {name: ding, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=…", secret: "SEC…"}
      - {name: wecom, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
      - {name: feishu, type: feishu, url: "https://open.feishu.cn/open-apis/bot/v2/hook/…", secret: "…"}
      - {name: mail, type: email, host: smtp.example.cn, port: 587, starttls: true, from: fenghuo@example.cn,
         to: [oncall@example.cn], username: …, password: …, services: {sectors: [medical]}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fenghuo.alerts.channels import TYPES, Channel
from fenghuo.alerts.levels import Level
from fenghuo.alerts.packs import pack_paths
from fenghuo.alerts.rules import Rule, Selector, load_rules
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Invalid
from fenghuo.platform.yamlfile import YamlDoc, load_yaml


@dataclass
class AlertsConfig:
    rules: list[Rule] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    group_by: tuple[str, ...] = ("service", "alert")
    repeat_interval: float = 4 * 3600.0
    tick_seconds: float = 0.25


def load_rule_set(paths: list[str | Path], windows: dict[str, float] | None = None) -> list[Rule]:
    rules: list[Rule] = []
    names: dict[str, str] = {}
    for p in paths:
        for r in load_rules(p, windows):
            if r.name in names:
                raise Invalid(f"规则名 {r.name} 在 {names[r.name]} 和 {r.source} 重复",
                              f"rule name {r.name} appears in both {names[r.name]} and {r.source}", code="invalid_rules")
            names[r.name] = r.source
            rules.append(r)
    return rules


def _channel(doc: YamlDoc, i: int, c: Any) -> Channel:
    loc = ("channels", i)
    if not isinstance(c, dict):
        raise doc.error(loc, "每个通道必须是映射", "each channel must be a mapping")
    allowed = {"name", "type", "url", "secret", "levels", "services", "host", "port", "from", "to", "username",
               "password", "starttls", "timeout"}
    for k in set(c) - allowed:
        raise doc.error(loc + (k,), "未知字段", "unknown field")
    if c.get("type") not in TYPES:
        raise doc.error(loc + ("type",), f"类型必须是 {', '.join(TYPES)}", f"type must be one of {', '.join(TYPES)}")
    if not c.get("name"):
        raise doc.error(loc + ("name",), "缺少名称", "missing name")
    if c["type"] == "email":
        if not c.get("host") or not c.get("to"):
            raise doc.error(loc, "邮件通道需要 host 和 to", "an email channel needs host and to")
    elif not c.get("url"):
        raise doc.error(loc + ("url",), "缺少 url", "missing url")
    try:
        levels = frozenset(Level(x) for x in c.get("levels", [lv.value for lv in Level]))
    except ValueError:
        raise doc.error(loc + ("levels",), "等级必须是 blue/yellow/orange/red", "levels are blue/yellow/orange/red") from None
    sel = c.get("services") or {}
    selector = Selector(frozenset(sel.get("ids", [])), frozenset(sel.get("grades", [])), frozenset(sel.get("sectors", [])),
                        tuple(sorted((str(k), str(v)) for k, v in (sel.get("labels") or {}).items())))
    to = c.get("to", [])
    return Channel(name=c["name"], type=c["type"], url=c.get("url"), secret=c.get("secret"), levels=levels,
                   services=selector, host=c.get("host"), port=int(c.get("port", 25)), sender=c.get("from"),
                   to=[to] if isinstance(to, str) else list(to), username=c.get("username"), password=c.get("password"),
                   starttls=bool(c.get("starttls", False)), timeout=float(c.get("timeout", 5.0)))


def load_config(path: str | Path, windows: dict[str, float] | None = None) -> AlertsConfig:
    doc = load_yaml(path)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise doc.error((), "配置必须是映射", "the configuration must be a mapping")
    for k in set(data) - {"packs", "rules", "channels", "group_by", "repeat_interval"}:
        raise doc.error((k,), "未知字段（可用：packs, rules, channels, group_by, repeat_interval）",
                        "unknown field (allowed: packs, rules, channels, group_by, repeat_interval)")
    base = Path(path).parent
    packs = data.get("packs", "default")
    files: list[str | Path] = list(pack_paths(packs))
    files += [base / f for f in data.get("rules", []) or []]
    group_by = tuple(data.get("group_by", ["service", "alert"]))
    if not set(group_by) <= {"service", "alert"} or not group_by:
        raise doc.error(("group_by",), "只能按 service 和/或 alert 分组", "group by service and/or alert")
    try:
        repeat = parse_duration(data.get("repeat_interval", "4h"))
    except ValueError as exc:
        raise doc.error(("repeat_interval",), str(exc), str(exc)) from None
    names = set()
    channels = []
    for i, c in enumerate(data.get("channels", []) or []):
        ch = _channel(doc, i, c)
        if ch.name in names:
            raise doc.error(("channels", i, "name"), "通道名称重复", "duplicate channel name")
        names.add(ch.name)
        channels.append(ch)
    return AlertsConfig(rules=load_rule_set(files, windows), channels=channels, group_by=group_by, repeat_interval=repeat)
