"""Write a run's report in every format, atomically, and read its verdict back by run id."""

from __future__ import annotations

import json
from pathlib import Path

from fenghuo.evaluation.report.docx import render_docx
from fenghuo.evaluation.report.html import render_html
from fenghuo.evaluation.report.markdown import render_markdown
from fenghuo.evaluation.report.model import build_report
from fenghuo.evaluation.store import RunStore

FILES = ("report.json", "report.md", "report.html", "self-assessment.docx")


def write_reports(store: RunStore) -> dict:
    """Build the report from the run's records and write all formats; returns the report."""
    report = build_report(store)
    store.write("report.json", json.dumps(report, ensure_ascii=False, indent=2))
    store.write("report.md", render_markdown(report))
    store.write("report.html", render_html(report))
    store.write("self-assessment.docx", render_docx(report))
    return report


def load_run_verdict(run_id: str, base: Path | None = None) -> tuple[bool, dict]:
    """(passed, summary) of a finished run, for a recovery step to attach as its verification.

    A run that is incomplete or has pending human reviews does not pass: verification must
    rest on a finished evaluation.
    """
    store = RunStore.open(run_id, base)
    report = build_report(store)
    passed = report["passed"] and report["complete"]
    summary = {
        "run_id": run_id,
        "passed": passed,
        "complete": report["complete"],
        "model": report.get("model"),
        "profile": report["verdict"]["profile"]["name"],
        "metrics": {k: {"rate": m["rate"], "n": m["n"], "status": m["status"]} for k, m in report["verdict"]["metrics"].items()},
        "pending_reviews": report["counts"]["pending_reviews"],
        "report": str(store.path / "report.json"),
    }
    return passed, summary
