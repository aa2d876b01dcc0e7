"""Issue 18, item 6: filing numbers on providers and services (CN-PO-12, CN-TC-12), a grade that
requires them refuses registration without them, and ``fenghuo filing package`` exports the
attachments fenghuo holds (CN-TC-30: self-assessment, keyword list, question set)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.control import services as registry
from fenghuo.evaluation.collected import judge_file
from fenghuo.evaluation.judges import Judges
from fenghuo.evaluation.report import write_reports
from fenghuo.filing import package as pkg
from fenghuo.platform.clock import SYSTEM_CLOCK
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.registry.grading import available_tables
from fenghuo.registry.spec import parse_registration
from tests.foundation.fixtures import ADMIN

REG = """
jurisdictions:
  - {id: cn, name: China, level: national}
providers:
  - {id: pa, name: A, jurisdiction: cn, filing_number: "Beijing-PA-2024"}
services:
  - {id: chat, name: Chat, provider: pa, sector: general, function: content_generation, modalities: [text], reach: 10,
     no_human_in_loop: false, filing_number: "Beijing-Chat-202401", base_model_filing: "Beijing-Base-202312"}
"""


@pytest.fixture
def db(tmp_path):
    d = Database(str(tmp_path / "f.db"), clock=SYSTEM_CLOCK)
    d.upgrade()
    registry.register(d, ADMIN, parse_registration(REG))
    yield d
    d.dispose()


def test_a_grade_that_requires_filing_refuses_registration_without_it(tmp_path, monkeypatch, db):
    table = yaml.safe_load(available_tables()["cn-default"].read_text(encoding="utf-8"))
    table["version"] = "test-filing"
    for g in table["grades"]:
        g["defaults"]["requires_filing"] = True
    d = tmp_path / "grading"
    d.mkdir()
    (d / "cn-default.yaml").write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("FENGHUO_GRADING_DIR", str(d))
    unfiled = REG.replace(', filing_number: "Beijing-Chat-202401", base_model_filing: "Beijing-Base-202312"', "").replace("id: chat,", "id: chat2,")
    with pytest.raises(Invalid) as e:
        registry.register(db, ADMIN, parse_registration(unfiled))
    assert e.value.code == "filing_required"


def test_package_exports_what_fenghuo_holds_and_lists_the_rest(db, tmp_path, fenghuo_home):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("id,prompt,answer,expectation\n1,北京在哪里？,北京位于华北平原。,answer\n", encoding="utf-8")
    store = judge_file(pairs, Judges([]), [], None, None, "filing-run")
    write_reports(store)
    m = pkg.package(db, ADMIN, "chat", tmp_path / "out", run_id="filing-run")
    folder = Path(m["folder"])
    assert {"附件1-安全自评估报告.docx", "附件4-拦截关键词列表.csv", "附件5-评估测试题集.csv"} <= set(m["files"])
    assert set(m["missing"]) == {"附件2", "附件3"}
    assert m["service"]["filing_number"] == "Beijing-Chat-202401" and m["service"]["base_model_filing"] == "Beijing-Base-202312"
    assert m["service"]["provider_filing_number"] == "Beijing-PA-2024"
    rows = list(csv.reader((folder / "附件4-拦截关键词列表.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) > 10 and rows[0][0].startswith("关键词")
    q = list(csv.reader((folder / "附件5-评估测试题集.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert q[1][:3] == ["1", "北京在哪里？", "answer"]
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"] == m["files"]


def test_cli_package_without_a_run_says_what_is_missing(db, tmp_path):
    r = CliRunner().invoke(root, ["--db", db.url, "filing", "package", "chat", "--out", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    assert {"附件1", "附件2", "附件3", "附件5"} == set(m["missing"]) and "附件4-拦截关键词列表.csv" in m["files"]
