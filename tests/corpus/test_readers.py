"""The loaders: the line a person needs to find a sample, and unreadable records reported, not skipped."""

from __future__ import annotations

from pathlib import Path

from fenghuo.corpus.manifest import DataFile, Source
from fenghuo.corpus.readers import read_file


def _src(text_field: str = "text") -> Source:
    return Source(id="s", kind="open-source", language="zh", modality="text", origin="domestic", text_field=text_field,
                  files=(), evidence={}, metadata={"dataset": "d"}, line=1)


def _read(path: Path, fmt: str, field: str = "text"):
    return list(read_file(_src(field), DataFile(path, path.name, fmt)))


def test_jsonl_lines_and_broken_records(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"text": "one", "url": "u1"}\n\n{"text": \n{"body": "no text"}\n[1]\n{"text": "six"}\n')
    got = [(s.line, s.text, s.error is not None) for s in _read(p, "jsonl")]
    assert got == [(1, "one", False), (3, None, True), (4, None, True), (5, None, True), (6, "six", False)]
    first = _read(p, "jsonl")[0]
    assert first.meta == {"dataset": "d", "url": "u1"} and first.id == "s:a.jsonl:1"


def test_csv_record_starting_lines_with_multiline_fields(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('text,url\n"two\nlines",u1\nplain,u2\n', encoding="utf-8")
    assert [(s.line, s.text) for s in _read(p, "csv")] == [(2, "two\nlines"), (4, "plain")]


def test_text_lines_not_utf8_reported(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes("好\n".encode() + "坏".encode("gb18030") + b"\n\nend\n")
    got = [(s.line, s.text, s.error is not None) for s in _read(p, "text")]
    assert got == [(1, "好", False), (2, None, True), (4, "end", False)]


def test_parquet_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"body": ["x", None, "z"], "url": ["u", "v", None]}), p)
    got = [(s.line, s.text, s.meta.get("url")) for s in _read(p, "parquet", "body")]
    assert got == [(1, "x", "u"), (2, None, "v"), (3, "z", None)]


def test_object_storage_uris_read_like_local_paths(planted, tmp_path):
    """``files`` may name object storage (s3://, gs://, …) through pyarrow.fs; file:// stands in here."""
    import yaml

    from fenghuo.corpus.manifest import load_manifest
    from fenghuo.corpus.readers import read_source
    from fenghuo.corpus.runs import data_hashes

    raw = yaml.safe_load(planted.manifest.read_text(encoding="utf-8"))
    for s in raw["sources"]:
        s["files"] = [f"file://{planted.root}/{g.replace('.', '*.', 1) if s['id'] == 'web-a' else g}" for g in s["files"]]
    (tmp_path / "remote.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    for name in ("licences", "records"):
        (tmp_path / name).symlink_to(planted.root / name)
    remote, local = load_manifest(tmp_path / "remote.yaml"), load_manifest(planted.manifest)
    assert not remote.problems
    for far, near in zip(remote.sources, local.sources):
        assert [f.uri for f in far.files] == [f"file://{f.path}" for f in near.files]
        assert [(x.line, x.text, x.meta) for x in read_source(far)] == [(x.line, x.text, x.meta) for x in read_source(near)]
    assert sorted(data_hashes(remote).values()) == sorted(data_hashes(local).values())
