"""Where fenghuo keeps its files, and where the shared public data sets live.

One place decides these so tests can point everything at a temporary directory by setting
``FENGHUO_HOME``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The user's fenghuo data directory (database, keys, trained models).

    ``FENGHUO_HOME`` overrides the platform default so tests and several deployments on one
    machine do not share state.
    """
    override = os.environ.get("FENGHUO_HOME")
    path = Path(override) if override else Path(platformdirs.user_data_dir("fenghuo"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # holds the database and the signing key
    return path


NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def safe_name(value: str, what_zh: str, what_en: str) -> str:
    """A user-given name that becomes one path component (a run id, a profile name): letters,
    digits, ``.``, ``_``, ``-``, no ``..``, so it can never leave its folder (issue 14:
    ``eval run --run-id ../../x`` wrote outside the runs folder)."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        from fenghuo.platform.errors import Unreadable

        raise Unreadable(f"{what_zh}无效：{value!r}（只能用字母、数字、. _ -，不能含 ..）",
                         f"invalid {what_en} {value!r}: use letters, digits, '.', '_', '-' (no '..', no '/')",
                         field=what_en)
    return value


def shared_data_dir() -> Path | None:
    """The public data sets used by tests, benchmarks and the demo, if present.

    ``FENGHUO_DATA`` wins; otherwise ``../shared/data`` next to the project checkout. The
    package itself never needs this directory: users point loaders at their own files.
    """
    override = os.environ.get("FENGHUO_DATA")
    if override:
        path = Path(override)
        return path if path.is_dir() else None
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (parent / "pyproject.toml").exists() and candidate.is_dir():
            return candidate
    return None
