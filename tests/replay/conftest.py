"""Fixtures for replay tests: the shared JADE v3 recording, skipped cleanly when absent."""

from __future__ import annotations

import pytest

from fenghuo.platform.paths import shared_data_dir

JADE_V3 = "traffic/jade_v3/jade_alignment_medium_zh.csv"


@pytest.fixture
def jade_v3():
    path = shared_data_dir()
    if path is None or not (path / JADE_V3).exists():
        pytest.skip("shared data not present (set FENGHUO_DATA)")
    return path / JADE_V3
