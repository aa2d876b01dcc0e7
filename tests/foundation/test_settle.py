"""A server process of fenghuo's own is settled once loaded (``platform.settle``): its loaded
heap frozen, so a full collection no longer walks it (the control plane had paused 90 ms for one
in ~1,700 ingest requests). An app hosted in a test or an embedder is left alone."""

from __future__ import annotations

import inspect
import subprocess
import sys


def _freeze_count_after_startup(tmp_path, settle: bool) -> int:
    # In a fresh interpreter: freezing is process-wide.
    code = (
        "import gc, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from fenghuo.api.app import create_app\n"
        "from fenghuo.platform.config import Settings\n"
        "from fenghuo.platform.db import open_database\n"
        f"url = 'sqlite:///{tmp_path}/s.db'\n"
        "db = open_database(url); db.upgrade()\n"
        f"app = create_app(Settings(db_url=url, checkpoint_seconds=0), db, settle={settle})\n"
        "assert gc.get_freeze_count() == 0\n"
        "with TestClient(app) as c:\n"
        "    assert c.get('/api/v1/health').status_code == 200\n"
        "    print(gc.get_freeze_count(), gc.get_threshold()[0], sys.getswitchinterval())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    frozen, gen0, interval = r.stdout.split()
    return int(frozen), int(gen0), float(interval)


def test_the_servers_own_process_is_settled_once_its_runtime_is_up(tmp_path):
    frozen, gen0, interval = _freeze_count_after_startup(tmp_path, settle=True)
    assert frozen > 100_000  # the app, its runtime and every module loaded
    assert gen0 == 10_000 and interval <= 0.001 + 1e-9


def test_an_app_hosted_elsewhere_leaves_the_interpreter_alone(tmp_path):
    frozen, gen0, interval = _freeze_count_after_startup(tmp_path, settle=False)
    assert frozen == 0 and gen0 != 10_000 and interval > 0.001


def test_fenghuo_serve_settles_the_server_it_runs():
    from fenghuo.api import cli

    assert "settle=True" in inspect.getsource(cli.serve.callback)
