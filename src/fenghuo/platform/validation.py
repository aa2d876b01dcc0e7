"""The validation kit for the YAML files people write (alert rules, response plans): collect
every problem with its file, line and field instead of stopping at the first, so one run of
``fenghuo … check`` shows all of them. Pure: no framework; the pure cores use it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fenghuo.platform.durations import parse_duration
from fenghuo.platform.yamlfile import YamlDoc

# Ids people write in these files (rule names, alerts, plan, trigger and action ids).
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# A throttle's rate in requests per second: far above any real service, far below the 32-bit
# column it is stored in (a rate of 1e30 used to overflow it into a 500, issue 14).
MAX_RATE = 1_000_000


def rate_problem(v: object) -> tuple[str, str] | None:
    """Why ``v`` is not a throttle rate (中文, English), or None: a whole number 1…MAX_RATE."""
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_RATE:
        return (f"限流速率 rate 必须是 1–{MAX_RATE} 的整数（次/秒），收到 {v!r}",
                f"rate must be a whole number of requests/second between 1 and {MAX_RATE}, got {v!r}")
    return None


@dataclass
class Problems:
    """Problems found in one document; ``warnings`` do not refuse the file."""

    doc: YamlDoc
    items: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def _item(self, loc: tuple, zh: str, en: str) -> dict[str, Any]:
        e = self.doc.error(loc, zh, en)
        return {"file": e.details["file"], "line": e.details["line"], "field": e.details["field"],
                "problem": f"{zh} / {en}", "message": e.message}

    def add(self, loc: tuple, zh: str, en: str) -> None:
        self.items.append(self._item(loc, zh, en))

    def warn(self, loc: tuple, zh: str, en: str) -> None:
        self.warnings.append(self._item(loc, zh, en))


def unknown_keys(p: Problems, loc: tuple, data: dict, allowed: Iterable[str]) -> None:
    """One problem per key not in ``allowed`` (in sorted order), naming the allowed ones."""
    allowed = set(allowed)
    names = ", ".join(sorted(allowed))
    for k in sorted(set(data) - allowed, key=str):
        p.add(loc + (k,), f"未知字段（可用：{names}）", f"unknown field (allowed: {names})")


def duration(p: Problems, loc: tuple, v: Any) -> float | None:
    try:
        return parse_duration(v)
    except (ValueError, TypeError):
        p.add(loc, f"不是时长：{v!r}（如 0、30s、5m、4h、15d）", f"not a duration: {v!r} (e.g. 0, 30s, 5m, 4h, 15d)")
        return None


def strings(p: Problems, loc: tuple, v: Any, *, non_empty: bool = False) -> tuple[str, ...]:
    """A string or a list of non-blank strings (stripped); ``non_empty``: the list may not be empty."""
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or (non_empty and not v) or not all(isinstance(x, str) and x.strip() for x in v):
        if non_empty:
            p.add(loc, "必须是非空字符串列表", "must be a non-empty list of strings")
        else:
            p.add(loc, "必须是字符串列表", "must be a list of strings")
        return ()
    return tuple(x.strip() for x in v)
