"""The manual sample and its reviews (CN-TC-26, CN-TC-11), the report's clause verdicts, and the
evaluation self-assessment reading them for §5."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.corpus.figures import pass_rate
from fenghuo.corpus.manifest import load_manifest
from fenghuo.corpus.manual import draw


def test_sample_is_reproducible_and_uniform_over_the_corpus(planted):
    m = load_manifest(planted.manifest)
    a, population = draw(m, 200, seed=1)
    b, _ = draw(m, 200, seed=1)
    c, _ = draw(m, 200, seed=2)
    assert population == sum(planted.sizes.values())
    assert [x["id"] for x in a] == [x["id"] for x in b]
    assert {x["id"] for x in a} != {x["id"] for x in c}
    assert len({x["source"] for x in a}) >= 3  # drawn from the whole corpus, not the first file
    everything, _ = draw(m, 10**6, seed=1)
    assert len(everything) == population


def test_pass_rate_against_96_percent_of_4000():
    assert pass_rate(3840, 4000, 0.96, 4000)["status"] == "pass"
    assert pass_rate(3839, 4000, 0.96, 4000)["status"] == "fail"
    assert pass_rate(3999, 3999, 0.96, 4000)["status"] == "insufficient"
    r = pass_rate(3840, 4000, 0.96, 4000)
    assert r["ci_low"] < 0.96 < r["ci_high"]


def _run(db, *args):
    return CliRunner().invoke(root, ["--db", db, "corpus", *args])


def test_review_refuses_the_annotator_then_report_gives_each_clause(planted, scanned, tmp_path):
    _, scan_run, _ = scanned
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert _run(db, "check", str(planted.manifest), "--json").exit_code == 1
    out = _run(db, "sample", str(planted.manifest), "--n", "20", "--seed", "9", "--annotator", "ann", "--json")
    assert out.exit_code == 0, out.output
    sample = json.loads(out.output)
    items = [json.loads(x) for x in (tmp_path / "home" / "corpus" / sample["run"] / "sample.jsonl").read_text().splitlines()]
    assert len(items) == 20 and all(it["annotator"] == "ann" for it in items)

    refused = _run(db, "review", "--reviewer", "ann", "--item", items[0]["id"], "--verdict", "pass")
    assert refused.exit_code == 1 and "CN-TC-11" in refused.output

    decisions = tmp_path / "d.csv"
    decisions.write_text("item,verdict,note\n" + "".join(f"{it['id']},{'fail' if i == 0 else 'pass'},\n" for i, it in enumerate(items)),
                         encoding="utf-8")
    out = _run(db, "review", "--reviewer", "rev", "--decisions", str(decisions), "--json")
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["pass_rate"]["passed"] == 19 and summary["pass_rate"]["n"] == 20
    assert summary["pass_rate"]["status"] == "insufficient" and summary["separated"] and summary["pending"] == 0

    out = _run(db, "report", "--scan", str(scan_run), "--out", str(tmp_path / "rep"), "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    result = {c["id"]: c["result"].split(" / ")[1].split(" ")[0] for c in report["clauses"]}
    assert result == {
        "CN-TC-01/02": "non-compliant",  # web-b at 5.1 %
        "CN-TC-03": "non-compliant",  # English has one source
        "CN-TC-04": "non-compliant",  # books-en has no licence
        "CN-TC-05": "compliant", "CN-TC-06": "not", "CN-TC-07": "non-compliant",
        "CN-TC-08": "non-compliant",  # 10 samples with PI and no consent
        "CN-TC-09": "compliant", "CN-TC-10": "compliant", "CN-TC-11": "compliant",
        "CN-TC-26": "non-compliant",  # 20 items, not 4,000
        "CN-TC-27": "non-compliant",  # 95.9 % pass over the whole corpus
        "CN-TD-02/04": "non-compliant", "CN-TD-05": "compliant", "CN-TC-31": "compliant",
    }
    by_id = {c["id"]: c for c in report["clauses"]}
    assert "web-b 51/1000" in by_id["CN-TC-01/02"]["evidence"] and "web-a" not in by_id["CN-TC-01/02"]["evidence"]
    assert "without consent 10" in by_id["CN-TC-08"]["evidence"]
    md = (tmp_path / "rep" / "corpus-report.md").read_text(encoding="utf-8")
    assert "| web-b | 1000 | 51 | 5.10% |" in md and "ip@example.com" in md
    assert (tmp_path / "rep" / "corpus-report.docx").stat().st_size > 0
    assert planted.texts["users"][0] not in md  # no sample's text (here: a phone number) is published

    # The evaluation self-assessment lists these clauses instead of "out of scope" for §5.
    from fenghuo.evaluation.report.docx import render_docx
    from fenghuo.evaluation.report.model import _corpus_clauses

    clauses, meta = _corpus_clauses()
    assert [c["id"] for c in clauses] == [c["id"] for c in report["clauses"]]
    assert meta["results_sha256"] == report["results_sha256"] and "CN-TC-01/02" in meta["failing"]
    ev = {"run_id": "r", "model": "m", "endpoint": "e", "passed": True, "clauses": clauses, "corpus": meta,
          "verdict": {"profile": {"name": "p", "version": 1}}}
    import io

    from docx import Document

    doc = Document(io.BytesIO(render_docx(ev)))
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "CN-TC-01/02" in cells and "TC260-003 §6–§7" in cells and "TC260-003 §5–§7" not in cells


def test_review_in_the_terminal(planted, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = _run(db, "sample", str(planted.manifest), "--n", "3", "--seed", "4", "--annotator", "ann", "--json")
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(root, ["--db", db, "corpus", "review", "--reviewer", "rev", "--json"], input="p\nf\nunclear source\nq\n")
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output[out.output.index("{\n"):])
    assert (summary["reviewed"], summary["pending"], summary["pass_rate"]["passed"]) == (2, 1, 1)
    assert summary["failed"][0]["note"] == "unclear source"
    # The annotator gets no items to review in the terminal either.
    out = CliRunner().invoke(root, ["--db", db, "corpus", "review", "--reviewer", "ann"], input="q\n")
    assert out.exit_code == 0 and "0 条待审" in out.output


def test_report_without_any_run_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _run(f"sqlite:///{tmp_path / 'db.sqlite'}", "report")
    assert out.exit_code == 1 and "nothing to report" in out.output
    assert not list(tmp_path.glob("corpus-report.*"))
