"""The documented transition table is the code's table."""

from pathlib import Path

from fenghuo.control.transitions import markdown_table


def test_docs_show_the_transition_table_the_code_enforces():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "foundation.md").read_text(encoding="utf-8")
    assert markdown_table() in doc
