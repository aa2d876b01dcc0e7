"""One streaming loader per format: a sample at a time, with where it came from.

Every loader yields :class:`Sample` in file order and holds at most one record (Parquet: one
row batch) in memory, so reading a terabyte costs what reading a megabyte does. ``line`` is
the 1-based line of a JSONL or text record, the first line of a CSV record (quoted fields may
span lines) and the 1-based row of a Parquet file: what a person needs to find the sample.

A record the loader cannot read (broken JSON, a line that is not UTF-8, no text field) is
yielded with ``text=None`` and ``error`` set: ``corpus check`` reports it, ``corpus scan``
counts it as unreadable instead of skipping it silently.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from fenghuo.corpus.manifest import META_FIELDS, DataFile, Source

PARQUET_BATCH = 2048


@dataclass(slots=True)
class Sample:
    source: str
    file: str
    line: int
    text: str | None
    meta: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.source}:{self.file}:{self.line}"


def _meta(record: dict, defaults: dict[str, str]) -> dict[str, str]:
    out = dict(defaults)
    for k in META_FIELDS:
        v = record.get(k)
        if v is not None and v != "":
            out[k] = str(v)
    return out


def _from_record(src: Source, f: DataFile, line: int, record: object) -> Sample:
    if not isinstance(record, dict):
        return Sample(src.id, f.name, line, None, dict(src.metadata), "记录不是对象 / record is not an object")
    text = record.get(src.text_field)
    meta = _meta(record, src.metadata)
    if not isinstance(text, str):
        return Sample(src.id, f.name, line, None, meta, f"缺少文本字段 {src.text_field} / no text field '{src.text_field}'")
    return Sample(src.id, f.name, line, text, meta)


def open_data(f: DataFile) -> io.BufferedIOBase:
    """The file's bytes, from a local path or from object storage (pyarrow.fs)."""
    if f.uri is None:
        return open(f.path, "rb")
    import pyarrow.fs as pafs

    fs, path = pafs.FileSystem.from_uri(f.uri)
    return io.BufferedReader(fs.open_input_stream(path), buffer_size=1 << 20)


def read_jsonl(src: Source, f: DataFile) -> Iterator[Sample]:
    with open_data(f) as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield Sample(src.id, f.name, number, None, dict(src.metadata), f"JSON 无效 / invalid JSON: {exc}")
                continue
            yield _from_record(src, f, number, record)


def read_text(src: Source, f: DataFile) -> Iterator[Sample]:
    with open_data(f) as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield Sample(src.id, f.name, number, None, dict(src.metadata), f"不是 UTF-8 / not UTF-8 (byte {exc.start})")
                continue
            if text.strip():
                yield Sample(src.id, f.name, number, text, dict(src.metadata))


def read_csv(src: Source, f: DataFile) -> Iterator[Sample]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with io.TextIOWrapper(open_data(f), encoding="utf-8-sig", newline="", errors="strict") as fh:
        reader = csv.DictReader(fh)
        start = reader.line_num + 2  # the header is line 1
        try:
            for record in reader:
                yield _from_record(src, f, start, record)
                start = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error) as exc:
            yield Sample(src.id, f.name, start, None, dict(src.metadata), f"CSV 无法读取，其后各行未读 / unreadable CSV, rest of file skipped: {exc}")


def read_parquet(src: Source, f: DataFile) -> Iterator[Sample]:
    import pyarrow.parquet as pq

    if f.uri is None:
        pf = pq.ParquetFile(f.path)
    else:
        import pyarrow.fs as pafs

        fs, path = pafs.FileSystem.from_uri(f.uri)
        pf = pq.ParquetFile(fs.open_input_file(path))
    names = set(pf.schema_arrow.names)
    columns = [c for c in (src.text_field, *META_FIELDS) if c in names]
    row = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        for record in batch.to_pylist():
            row += 1
            yield _from_record(src, f, row, record)


READERS = {"jsonl": read_jsonl, "text": read_text, "csv": read_csv, "parquet": read_parquet}


def read_file(src: Source, f: DataFile) -> Iterator[Sample]:
    try:
        yield from READERS[f.format](src, f)
    except OSError as exc:
        yield Sample(src.id, f.name, 0, None, dict(src.metadata), f"无法打开 / cannot open: {exc}")


def read_source(src: Source) -> Iterator[Sample]:
    for f in src.files:
        yield from read_file(src, f)


def read_corpus(sources: list[Source]) -> Iterator[Sample]:
    for src in sources:
        yield from read_source(src)
