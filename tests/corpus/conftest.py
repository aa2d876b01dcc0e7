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


@pytest.fixture(scope="module")
def ray_local():
    """One Ray per module that needs it, in this machine, on one CPU (start-up is the slow part);
    shut down after the module so its daemons (~1 GB) do not live on through the rest of the suite."""
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


SMALL_CHECKS = """\
checks:
  - type: lexicon
    files: [words.tsv]
  - type: pii
categories:
  gambling: {action: block, risk: A1h}
  drugs: {action: block, risk: A1h}
  pii: {action: mask, risk: A4f}
"""


@pytest.fixture(scope="session")
def small_checks(tmp_path_factory) -> str:
    """A three-word lexicon and PII: loads in a blink in every worker process, for the tests
    that compare engines (their equality does not depend on which checks run)."""
    d = tmp_path_factory.mktemp("checks")
    (d / "words.tsv").write_text("娱乐城\tgambling\n冰毒\tdrugs\n百家乐\tgambling\n", encoding="utf-8")
    (d / "checks.yaml").write_text(SMALL_CHECKS, encoding="utf-8")
    return str(d / "checks.yaml")
