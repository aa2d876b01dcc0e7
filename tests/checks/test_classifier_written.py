"""The Chinese texts written for the shipped classifier (build/written_zh, issue 12, session 17):
read and checked line by line, split by hash, recorded in the manifest, measured on their test split."""

import pytest

from fenghuo.checks.build.classifier_data import CATEGORIES, WRITTEN_ZH_DIR, bucket, split_of, written_zh_files, written_zh_rows


def test_written_zh_rows_are_read_and_split_by_hash():
    rows = written_zh_rows()
    assert all(p.parent == WRITTEN_ZH_DIR for p in written_zh_files())
    assert all(r.source == "written_zh" and r.labels <= set(CATEGORIES) and r.text == r.text.strip() for r in rows)
    assert all(r.split == split_of(bucket("written_zh", r.text), 70, 15) for r in rows)
    if len(rows) > 200:
        assert {r.split for r in rows} == {"train", "val", "test"}


def test_written_zh_files_are_package_data():
    """pyproject ships build/written_zh/*.jsonl (and written_en's) with the package, so `make
    models` from an installed package reads the same rows."""
    import tomllib
    from pathlib import Path

    conf = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    data = conf["tool"]["setuptools"]["package-data"]["fenghuo.checks.build"]
    assert "written_zh/*.jsonl" in data and "written_en/*.jsonl" in data


def test_kind_is_kept_for_harmless_rows(tmp_path):
    (tmp_path / "h.jsonl").write_text('{"labels": [], "text": " 反对地域歧视 ", "kind": "antibias"}\n{"labels": ["harm"], "text": "不想活了"}\n', encoding="utf-8")
    rows = written_zh_rows(tmp_path)
    assert [(r.text, r.labels, r.kind) for r in rows] == [("反对地域歧视", frozenset(), "antibias"), ("不想活了", frozenset({"harm"}), "")]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"labels": [], "text": "好"}\n{"labels": ["violense"], "text": "错字"}\n', "bad.jsonl:2: unknown labels ['violense']"),
        ('{"labels": [], "text": "好"}\n\n{"labels": [], "text": "好"\n', "bad.jsonl:3: not JSON"),
        ('{"labels": "violence", "text": "不是列表"}\n', "bad.jsonl:1: needs a non-empty 'text' and a 'labels' list"),
        ('{"labels": [], "text": "   "}\n', "bad.jsonl:1: needs a non-empty 'text'"),
        ('["not", "an", "object"]\n', "bad.jsonl:1: needs a non-empty 'text'"),
        ('{"labels": [], "text": "好", "kind": 3}\n', "bad.jsonl:1: 'kind' must be a string"),
    ],
)
def test_a_bad_written_line_stops_the_build_with_file_and_line(tmp_path, line, message):
    (tmp_path / "bad.jsonl").write_text(line, encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        written_zh_rows(tmp_path)
    assert message in str(exc.value)


def test_the_weight_choice_rule_reads_val_figures_only():
    from fenghuo.checks.build.classifier_choice import choose

    def f(macro, cv, wh, score):
        return {"cold_val_macro_f1": macro, "cvalues_val": {"flagged": cv}, "written_val_harmless": {"flagged": wh}, "score": score}

    shipped = f(0.85, 2, 5, 0.4)
    # 8 breaks COLD, 4 flags more CValues rows; of 1 and 2 (within the tie), the smaller.
    assert choose(shipped, {1.0: f(0.85, 2, 3, 0.50), 2.0: f(0.849, 1, 2, 0.503), 4.0: f(0.85, 3, 1, 0.6), 8.0: f(0.84, 0, 0, 0.7)}) == 1.0
    assert choose(shipped, {1.0: f(0.85, 2, 3, 0.50), 2.0: f(0.85, 2, 3, 0.52)}) == 2.0
    assert choose(shipped, {1.0: f(0.80, 2, 3, 0.50)}) is None
