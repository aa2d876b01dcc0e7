"""`corpus check` on the planted corpus: every planted problem, and nothing else, named by
clause, source, file and line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.corpus.audit import run_check
from fenghuo.corpus.manifest import load_manifest
from fenghuo.platform.errors import Invalid


def test_check_names_every_planted_problem(planted):
    r = run_check(load_manifest(planted.manifest))
    got = {(p["clause"], p["source"], p["file"], p["line"]) for p in r["problems"]}
    manifest = str(planted.manifest)
    want = {("CN-TD-04", "web-a", f, line) for f, line in planted.missing_url}
    want |= {("CN-TC-07", "users", f, line) for f, line in planted.unconsented}  # unknown or no consent id
    books_line = next(s["line"] for s in [vars(x) for x in load_manifest(planted.manifest).sources] if s["id"] == "books-en")
    want |= {("CN-TC-04", "books-en", manifest, books_line),  # missing licence
             ("CN-TC-03", "books-en", manifest, books_line)}  # the only English source
    assert got == want
    assert r["clauses"]["CN-TC-04"] == r["clauses"]["CN-TC-03"] == r["clauses"]["CN-TC-07"] == "non-compliant"
    assert r["clauses"]["CN-TD-05"] == r["clauses"]["CN-TC-05"] == r["clauses"]["CN-TD-03"] == "compliant"
    by_id = {s["id"]: s for s in r["sources"]}
    assert by_id["web-a"]["samples"] == 1000 and by_id["web-a"]["incomplete"] == 3
    assert by_id["web-b"]["samples"] == 1000 and by_id["books-en"]["samples"] == 120
    share = 120 / r["totals"]["samples"]
    assert r["totals"]["foreign_open_source_share"] == pytest.approx(share, abs=1e-6)
    assert r["clauses"]["CN-TC-31"] == "compliant"


def test_check_cli_exits_1_and_records_the_run(planted, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = CliRunner().invoke(root, ["--db", db, "corpus", "check", str(planted.manifest), "--json"])
    assert out.exit_code == 1, out.output
    body = json.loads(out.output)
    assert body["ledger_seq"] >= 1 and not body["ok"]
    from fenghuo.ledger import store
    from fenghuo.platform.db import open_database

    d = open_database(db)
    with d.reader() as s:
        entries = list(store.iter_entries(s))
        assert store.verify(s).ok
    payload = json.loads(entries[-1]["payload"]) if isinstance(entries[-1]["payload"], str) else entries[-1]["payload"]
    assert entries[-1]["kind"] == "corpus.check"
    assert payload["manifest_sha256"] == load_manifest(planted.manifest).sha256
    assert set(payload["data_files"]) >= {"data/web-a.jsonl", "data/web-b.csv", "data/books-en.parquet"}


def test_manifest_problems_name_the_line(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "sources:\n"
        "  - id: a\n"
        "    kind: scraped\n"       # line 3: unknown kind
        "    language: zh\n"
        "    files: [nothing/*.jsonl]\n"  # line 5: matches nothing
        "    colour: red\n",        # line 6: unknown key
        encoding="utf-8")
    m = load_manifest(tmp_path / "m.yaml")
    lines = sorted(p["line"] for p in m.problems)
    assert lines == [3, 5, 6], m.problems
    (tmp_path / "empty.yaml").write_text("name: x\n", encoding="utf-8")
    with pytest.raises(Invalid):
        load_manifest(tmp_path / "empty.yaml")
