"""The Chinese texts written for the shipped classifier (build/written_zh, issue 12, session 17):
read and checked line by line, split by hash, recorded in the manifest, measured on their test split."""

import pytest

from fenghuo.checks.build import file_record, load_manifest
from fenghuo.checks.build.classifier_data import CATEGORIES, WRITTEN_ZH_DIR, bucket, split_of, written_zh_files, written_zh_rows


def test_written_zh_rows_are_read_and_split_by_hash():
    rows = written_zh_rows()
    assert all(p.parent == WRITTEN_ZH_DIR for p in written_zh_files())
    assert all(r.source == "written_zh" and r.labels <= set(CATEGORIES) and r.text == r.text.strip() for r in rows)
    assert all(r.split == split_of(bucket("written_zh", r.text), 70, 15) for r in rows)
    if len(rows) > 200:
        assert {r.split for r in rows} == {"train", "val", "test"}


def test_written_zh_files_are_recorded_in_the_manifest_with_their_sha256():
    """A model built with written rows records each file's sha256 and its written test-split
    figures; a model with no head trained on them (sessions 17-23: WRITTEN_HEADS empty) may
    record none."""
    entry = load_manifest()["steps"]["classifier"]
    if entry["settings"].get("written_heads"):
        assert entry["written_inputs"], "a model trained on written rows records them"
    if entry["written_inputs"]:
        assert [file_record(WRITTEN_ZH_DIR, p) for p in written_zh_files()] == entry["written_inputs"]
        fig = entry["figures"]["written_zh_test"]
        assert fig["harmful_flagged"]["n"] + fig["harmless_flagged"]["n"] == sum(r.split == "test" for r in written_zh_rows())


def test_the_shipped_model_was_built_with_the_written_heads_the_build_names():
    """The build's WRITTEN_HEADS are the shipped manifest's (none from session 17, whose candidate
    failed its acceptance rule, to session 24: harm); every other head skips written rows."""
    from fenghuo.checks.build.classifier import WRITTEN_HEADS, WRITTEN_SKIP

    assert set(WRITTEN_SKIP) == set(CATEGORIES) - set(WRITTEN_HEADS)
    assert load_manifest()["steps"]["classifier"]["settings"].get("written_heads", []) == list(WRITTEN_HEADS)


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


def test_skipped_heads_never_see_written_rows_and_other_heads_see_them_as_labelled():
    """WRITTEN_SKIP (offensive): a written row is neither a positive nor a negative of a skipped
    category; a category that ignores the skipped one ignores its marker too; other categories
    read the row as its labels say."""
    from fenghuo.checks.build.classifier import WRITTEN_HARMFUL_MARK, WRITTEN_MARK, _written_ignore, _written_labels
    from fenghuo.checks.build.classifier_data import IGNORE, Row

    insult = _written_labels(Row("你这个蠢货", frozenset({"offensive"}), "written_zh", "train"), set(), {"offensive"})
    harmless = _written_labels(Row("反对地域歧视", frozenset(), "written_zh", "train"), set(), {"offensive"})
    cold = _written_labels(Row("你这个蠢货", frozenset({"offensive"}), "cold", "train"), set(), {"offensive"})
    assert "offensive" not in insult and {"?offensive", WRITTEN_MARK, WRITTEN_HARMFUL_MARK} <= insult
    assert harmless == {WRITTEN_MARK} and cold == {"offensive"}
    ig = _written_ignore({"violence"}, {"offensive"})
    assert WRITTEN_MARK in ig["offensive"] and WRITTEN_MARK not in ig["violence"] and WRITTEN_HARMFUL_MARK in ig["violence"]
    assert all("?offensive" in ig[c] for c, v in IGNORE.items() if "offensive" in v)
    assert all(ig[c] == v for c, v in IGNORE.items() if c not in ("offensive", "violence") and "offensive" not in v)
