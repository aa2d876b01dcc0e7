"""A migrated SQLite file made once per test session and copied for each test: the compliance
tests need a fresh database each, and running the 14 migrations costs ~1 s every time."""

from __future__ import annotations

import shutil
from pathlib import Path

from fenghuo.platform.db import Database

_TEMPLATE: dict[str, Path] = {}


def fresh(tmp_path: Path, clock, factory) -> Database:
    if "db" not in _TEMPLATE:
        base = factory.mktemp("compliance-template") / "template.db"
        d = Database(str(base))
        d.upgrade()
        d.dispose()
        _TEMPLATE["db"] = base
    path = tmp_path / "compliance.db"
    shutil.copyfile(_TEMPLATE["db"], path)
    return Database(str(path), clock=clock)
