"""docs/benchmarks.md's generated blocks: a re-run replaces its own block and keeps text that was
written by hand inside the markers (moved below the block), and no hand-written section sits
inside a generated block in the shipped document."""

import re
from pathlib import Path

import bench.__main__ as bench_main

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def test_a_rerun_replaces_its_block_and_keeps_hand_written_sections(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n<!-- bench:demo:start -->\n## Demo\n\nold figure 1\n\n"
                   "### Notes from a session\n\nkeep me\n<!-- bench:demo:end -->\n\n## After\n", encoding="utf-8")
    monkeypatch.setattr(bench_main, "DOC", doc)
    bench_main.write_section("demo", "## Demo\n\nnew figure 2\n")
    text = doc.read_text(encoding="utf-8")
    block = text.partition("<!-- bench:demo:start -->")[2].partition("<!-- bench:demo:end -->")[0]
    assert "new figure 2" in block and "old figure 1" not in text
    assert "keep me" in text and "keep me" not in block  # moved out, not erased
    assert text.index("keep me") < text.index("## After")
    assert "Notes from a session" in capsys.readouterr().err


def test_the_shipped_doc_has_no_hand_written_section_inside_a_generated_block():
    text = DOC.read_text(encoding="utf-8")
    sources = "".join(p.read_text(encoding="utf-8") for p in (DOC.parents[1] / "bench").glob("*.py"))
    for name, block in re.findall(r"<!-- bench:(\w+):start -->(.*?)<!-- bench:\1:end -->", text, re.S):
        for line in block.splitlines():
            if re.match(r"#{2,3} ", line):
                heading = line.lstrip("#").strip()
                assert heading[:25] in sources, f"bench {name}: section {heading!r} is not written by a benchmark"
