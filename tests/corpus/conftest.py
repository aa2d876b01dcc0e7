"""The planted corpus, built once per session in a temporary folder (never in the repository)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fenghuo.platform.paths import shared_data_dir
from tests.corpus.corpus_gen import build


@pytest.fixture(scope="session")
def planted(tmp_path_factory):
    return build(tmp_path_factory.mktemp("corpus"), shared_data_dir())


@pytest.fixture(scope="session")
def ray_local():
    """One Ray for the session, in this machine, on one CPU (start-up is the slow part)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def scanned(planted, tmp_path_factory):
    """`corpus scan --all --json` once: (printed body, run folder, database URL)."""
    from fenghuo.cli import root

    tmp = tmp_path_factory.mktemp("scan")
    db = f"sqlite:///{tmp / 'db.sqlite'}"
    out = CliRunner().invoke(root, ["--db", db, "corpus", "scan", str(planted.manifest), "--all", "--engine", "inline",
                                    "--out", str(tmp / "run"), "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output), tmp / "run", db
