"""Where fenghuo keeps its files, and where the shared public data sets live.

One place decides these so tests can point everything at a temporary directory by setting
``FENGHUO_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The user's fenghuo data directory (database, keys, trained models).

    ``FENGHUO_HOME`` overrides the platform default so tests and several deployments on one
    machine do not share state.
    """
    override = os.environ.get("FENGHUO_HOME")
    path = Path(override) if override else Path(platformdirs.user_data_dir("fenghuo"))
    path.mkdir(parents=True, exist_ok=True)
    return path


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
