"""Silences (the silence stage): matchers over a warning's labels, a start, and an end or
"until resolved", with a reason and an author. A silenced warning still changes state and is
still written to the ledger; only its notifications are held back (and logged as silenced).

An until-resolved silence (asked of Alertmanager for years, prometheus/alertmanager#3825) ends
when a warning it silenced resolves."""

from __future__ import annotations

import re
from typing import Any

from fenghuo.platform.errors import Invalid

OPS = ("=", "!=", "=~", "!~")


def parse_matchers(items: list[Any]) -> list[dict[str, str]]:
    """Accept ``{"name", "op", "value"}`` dicts or ``name=value`` / ``name=~regex`` strings."""
    out = []
    if not items:
        raise Invalid("静默至少需要一个匹配条件", "a silence needs at least one matcher", field="matchers")
    for i, m in enumerate(items):
        if isinstance(m, str):
            found = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", m)
            if not found:
                raise Invalid(f"匹配条件 {m!r} 写作 名称=值 或 名称=~正则", f"matcher {m!r}: write name=value or name=~regex",
                              field=f"matchers.{i}")
            m = {"name": found.group(1), "op": found.group(2), "value": found.group(3)}
        if not isinstance(m, dict) or set(m) - {"name", "op", "value"} or not m.get("name"):
            raise Invalid(f"匹配条件 {i} 需要 name、op、value", f"matcher {i} needs name, op, value", field=f"matchers.{i}")
        op = m.get("op", "=")
        if op not in OPS:
            raise Invalid(f"匹配符必须是 {' '.join(OPS)}", f"op must be one of {' '.join(OPS)}", field=f"matchers.{i}.op")
        if op in ("=~", "!~"):
            try:
                re.compile(str(m.get("value", "")))
            except re.error as exc:
                raise Invalid(f"正则无效：{exc}", f"invalid regex: {exc}", field=f"matchers.{i}.value") from None
        out.append({"name": str(m["name"]), "op": op, "value": str(m.get("value", ""))})
    return out


def matches(matchers: list[dict[str, str]], labels: dict[str, Any]) -> bool:
    for m in matchers:
        v = str(labels.get(m["name"], ""))
        op = m["op"]
        if op == "=" and v != m["value"]:
            return False
        if op == "!=" and v == m["value"]:
            return False
        if op == "=~" and not re.fullmatch(m["value"], v):
            return False
        if op == "!~" and re.fullmatch(m["value"], v):
            return False
    return True


def in_scope(silence, labels: dict[str, Any]) -> bool:
    """Is the warning's service inside the silence's scope (provider, or jurisdiction path)?
    A deployment silence (neither) covers every service."""
    provider, path = getattr(silence, "scope_provider", None), getattr(silence, "scope_path", None)
    if provider is not None and labels.get("provider") != provider:
        return False
    return path is None or str(labels.get("jurisdiction") or "").startswith(path)


def applies(silence, labels: dict[str, Any]) -> bool:
    return in_scope(silence, labels) and matches(silence.matchers, labels)


def active(silence, now: str) -> bool:  # models.SilenceRow; ISO text compares as time
    if silence.ended_at is not None or silence.starts_at > now:
        return False
    return silence.until_resolved or (silence.ends_at is not None and now < silence.ends_at)


def silencing(silences, labels: dict[str, Any], now: str) -> list:
    return [s for s in silences if active(s, now) and applies(s, labels)]
