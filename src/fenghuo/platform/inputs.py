"""What a client's input must be for any database to store it, checked where it comes in.

PostgreSQL refuses a NUL character (U+0000) in any text it is given, stored or compared, where
SQLite takes it; and a JSON column (and our JSON answers) cannot hold NaN or ±Infinity, which
Python's JSON reader makes of ``NaN``, ``Infinity`` or ``1e999``. Left to the database, such a
value is a 500 on one backend and stored on the other (issue 14's fuzz runs). So every request
body (:class:`Body`), registration and query or path parameter (``api.inputs``) is refused
with a 422 naming the field instead, on both backends alike.

Pure (pydantic only): the domains' request bodies build on it.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

NUL = "\x00"
NUL_PROBLEM = ("含有 NUL 字符 (U+0000)，无法保存", "contains a NUL character (U+0000), which cannot be stored")
NOT_FINITE = ("应为有限数值（不能是 NaN 或无穷大）", "must be a finite number (not NaN or infinity)")
# Free-form JSON (an instance's meta, evidence, a duty's content) is stored and answered back:
# 900 levels were accepted, then every answer holding them failed to serialise (a 500 found by
# probing). Nothing we are sent needs more than a few.
MAX_DEPTH = 32
TOO_DEEP = (f"嵌套超过 {MAX_DEPTH} 层", f"is nested deeper than {MAX_DEPTH} levels")


def unstorable(value: Any) -> tuple[str, tuple[str, str]] | None:
    """Where in ``value`` (a dotted path, "" for the value itself) the first text holding NUL,
    number that is not finite or container nested past ``MAX_DEPTH`` is, and the problem (中文,
    English); None when all is storable. Iterative, so a deep document cannot exhaust the stack."""
    todo: list[tuple[str, Any, int]] = [("", value, 0)]
    while todo:
        path, v, depth = todo.pop()
        if depth > MAX_DEPTH:
            return path, TOO_DEEP
        if isinstance(v, str):
            if NUL in v:
                return path, NUL_PROBLEM
        elif isinstance(v, float):
            if not math.isfinite(v):
                return path, NOT_FINITE
        elif isinstance(v, dict):
            for k, item in v.items():
                sub = f"{path}.{k}" if path else str(k)
                if isinstance(k, str) and NUL in k:
                    return sub, NUL_PROBLEM
                todo.append((sub, item, depth + 1))
        elif isinstance(v, list | tuple | set | frozenset):
            todo.extend((f"{path}.{i}" if path else str(i), item, depth + 1) for i, item in enumerate(v))
        elif isinstance(v, BaseModel):
            todo.extend((f"{path}.{k}" if path else k, item, depth + 1) for k, item in v.__dict__.items())
    return None


def check_storable(value: Any) -> Any:
    """``value`` unchanged, or a ValueError (pydantic names the field) naming where inside it
    the unstorable part is."""
    found = unstorable(value)
    if found is not None:
        where, (zh, en) = found
        inside = f"{where}: " if where else ""
        raise ValueError(f"{inside}{zh} / {en}")
    return value


class Body(BaseModel):
    """A JSON request body: unknown fields refused, and no field holding text or a number that
    a database cannot store (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        return check_storable(v)
