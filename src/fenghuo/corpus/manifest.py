"""The corpus manifest: the YAML file a person writes to describe a training corpus.

```yaml
name: demo-corpus                  # optional; names the corpus in the ledger and the report
organisation: Example Ltd          # who publishes the summary (CN-TC-09)
ip_complaints: ip@example.com      # the IP complaint channel published with the summary (CN-TC-09)
consent_records: consents.jsonl    # consent/authorisation records: JSONL or CSV with consent_id[, user_id]
sources:
  - id: web-zh-2025
    kind: open-source              # open-source | self-collected | commercial | user-input | synthetic
    language: zh
    modality: text                 # default text
    origin: domestic               # domestic | foreign (share of foreign open-source, CN-TC-31)
    licence: licences/web-zh.txt   # or contract: / consent: / collection_log: (files), generator: (text)
    files: ["data/web-zh/*.jsonl"] # globs over JSONL, CSV, Parquet, plain text (.txt: one sample a line);
                                   # or object storage: "s3://bucket/corpus/*.parquet" (pyarrow.fs)
    text_field: text
    metadata: {dataset: web-zh, organisation: Example}   # defaults for per-sample metadata
```

Per-sample metadata fields (read from the record, else the source's ``metadata`` defaults):
``url, dataset, organisation, service, user_id, consent_id, generator, acquired_at, annotator``.

Read through ``platform.yamlfile`` (positions of every key; it parses through the bounded reader
``platform.documents``), and every problem is collected
with ``platform.validation.Problems`` so one ``corpus check`` lists all of them with file and
line. Paths are relative to the manifest's folder.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fenghuo.platform.errors import Invalid
from fenghuo.platform.validation import NAME, Problems, strings, unknown_keys
from fenghuo.platform.yamlfile import YamlDoc, load_yaml

KINDS = ("open-source", "self-collected", "commercial", "user-input", "synthetic")
# The document each kind must keep (CN-TC-04..07, CN-TD-05); the value names a file, except
# a generator (model and version), which is text.
EVIDENCE = {"open-source": "licence", "self-collected": "collection_log", "commercial": "contract",
            "user-input": "consent", "synthetic": "generator"}
EVIDENCE_FILES = ("licence", "collection_log", "contract", "consent")
META_FIELDS = ("url", "dataset", "organisation", "service", "user_id", "consent_id", "generator", "acquired_at", "annotator")
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}
SOURCE_KEYS = {"id", "kind", "language", "modality", "origin", "files", "format", "text_field", "metadata",
               "generated_at", *EVIDENCE.values()}
TOP_KEYS = {"name", "organisation", "ip_complaints", "consent_records", "sources"}


@dataclass(frozen=True)
class DataFile:
    path: Path  # absolute (for object storage: the path inside its file system)
    name: str  # as reported: relative to the manifest's folder, or the URI
    format: str
    uri: str | None = None  # s3://…, gs://…, hdfs://…, file://… — read through pyarrow.fs


def _expand_uri(pattern: str) -> list[str]:
    """The files an object-storage glob names (``s3://bucket/corpus/*.jsonl``), as URIs."""
    import fnmatch

    import pyarrow.fs as pafs

    cut = min((pattern.find(c) for c in "*?[" if c in pattern), default=-1)
    prefix = pattern[: pattern.index("://") + 3]
    if cut < 0:
        fs, path = pafs.FileSystem.from_uri(pattern)
        return [pattern] if fs.get_file_info(path).type == pafs.FileType.File else []
    fs, base = pafs.FileSystem.from_uri(pattern[: pattern.rfind("/", 0, cut)])
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    return sorted(prefix + i.path for i in infos if i.type == pafs.FileType.File and fnmatch.fnmatch(prefix + i.path, pattern))


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    language: str
    modality: str
    origin: str
    text_field: str
    files: tuple[DataFile, ...]
    evidence: dict[str, str]  # licence/contract/... -> value as written
    metadata: dict[str, str]
    line: int  # where the source is declared in the manifest


@dataclass
class Manifest:
    path: Path
    sha256: str
    name: str
    organisation: str | None
    ip_complaints: str | None
    consent_records: Path | None
    sources: list[Source]
    problems: list[dict[str, Any]] = field(default_factory=list)  # kept, not refused: `check` reports them

    @property
    def base(self) -> Path:
        return self.path.parent

    def files(self) -> list[DataFile]:
        return [f for s in self.sources for f in s.files]


def _text(v: Any) -> str | None:
    return str(v).strip() if isinstance(v, str | int | float) and str(v).strip() else None


def _files(p: Problems, loc: tuple, base: Path, raw: Any, fmt: str | None) -> tuple[DataFile, ...]:
    out: list[DataFile] = []
    for i, pattern in enumerate(strings(p, loc, raw, non_empty=True)):
        if "://" in pattern:
            try:
                uris = _expand_uri(pattern)
            except (OSError, ValueError) as exc:
                p.add(loc + (i,), f"无法列出 {pattern}：{exc}", f"cannot list {pattern}: {exc}")
                continue
            if not uris:
                p.add(loc + (i,), f"没有匹配的文件：{pattern}", f"no file matches {pattern}")
            for u in uris:
                kind = fmt or FORMATS.get(Path(u).suffix.lower())
                if kind is None:
                    p.add(loc + (i,), f"无法识别的格式：{u}", f"unknown format of {u}")
                    continue
                out.append(DataFile(Path(u.split("://", 1)[1]), u, kind, u))
            continue
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        matched = sorted(glob.glob(full, recursive=True))
        if not matched:
            p.add(loc + (i,), f"没有匹配的文件：{pattern}", f"no file matches {pattern}")
        for m in matched:
            path = Path(m)
            kind = fmt or FORMATS.get("".join(path.suffixes[-1:]).lower())
            if kind is None:
                p.add(loc + (i,), f"无法识别的格式：{path.name}（jsonl/csv/parquet/txt，或写 format）",
                      f"unknown format of {path.name} (jsonl/csv/parquet/txt, or set format)")
                continue
            try:
                name = str(path.relative_to(base))
            except ValueError:
                name = str(path)
            out.append(DataFile(path.resolve(), name, kind))
    return tuple(out)


def _source(p: Problems, doc: YamlDoc, i: int, raw: Any, base: Path, seen: set[str]) -> Source | None:
    loc = ("sources", i)
    if not isinstance(raw, dict):
        p.add(loc, "每个来源应为映射", "each source must be a mapping")
        return None
    unknown_keys(p, loc, raw, SOURCE_KEYS)
    sid = _text(raw.get("id"))
    if sid is None or not NAME.match(sid):
        p.add(loc + ("id",), "id 应为小写字母、数字和连字符", "id must be lower-case letters, digits and hyphens")
        sid = sid or f"source-{i}"
    elif sid in seen:
        p.add(loc + ("id",), f"来源 id 重复：{sid}", f"duplicate source id {sid}")
    seen.add(sid)
    kind = _text(raw.get("kind"))
    if kind not in KINDS:
        p.add(loc + ("kind",), f"kind 应为 {'|'.join(KINDS)}", f"kind must be one of {'|'.join(KINDS)}")
    language = _text(raw.get("language"))
    if language is None:
        p.add(loc + ("language",), "缺少语言", "language is missing")
    origin = _text(raw.get("origin")) or "domestic"
    if origin not in ("domestic", "foreign"):
        p.add(loc + ("origin",), "origin 应为 domestic|foreign", "origin must be domestic|foreign")
    fmt = _text(raw.get("format"))
    if fmt is not None and fmt not in FORMATS.values():
        p.add(loc + ("format",), "format 应为 jsonl|csv|parquet|text", "format must be jsonl|csv|parquet|text")
        fmt = None
    meta = raw.get("metadata") or {}
    if not isinstance(meta, dict):
        p.add(loc + ("metadata",), "metadata 应为映射", "metadata must be a mapping")
        meta = {}
    unknown_keys(p, loc + ("metadata",), meta, META_FIELDS)
    evidence = {k: _text(raw.get(k)) for k in EVIDENCE.values() if _text(raw.get(k))}
    if raw.get("generated_at") is not None:
        evidence["generated_at"] = str(raw["generated_at"])
    return Source(
        id=sid, kind=kind or "", language=language or "", modality=_text(raw.get("modality")) or "text",
        origin=origin, text_field=_text(raw.get("text_field")) or "text",
        files=_files(p, loc + ("files",), base, raw.get("files"), fmt), evidence=evidence,
        metadata={k: str(v) for k, v in meta.items() if k in META_FIELDS and v is not None},
        line=doc.line_of(loc) or 0,
    )


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest. A file that is not YAML, or has no sources, is refused
    (``Invalid``); every other problem is kept in ``Manifest.problems`` for ``corpus check``."""
    path = Path(path).resolve()
    doc = load_yaml(path)  # through platform.documents: bounded size, depth, aliases
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("sources"), list) or not doc.data["sources"]:
        raise Invalid(f"{path}: 清单需要非空的 sources 列表", f"{path}: a manifest needs a non-empty 'sources' list",
                      code="invalid_file", file=str(path))
    p = Problems(doc)
    unknown_keys(p, (), doc.data, TOP_KEYS)
    base = path.parent
    seen: set[str] = set()
    sources = [s for i, raw in enumerate(doc.data["sources"]) if (s := _source(p, doc, i, raw, base, seen))]
    consent = _text(doc.data.get("consent_records"))
    consent_path = (base / consent) if consent else None
    if consent_path is not None and not consent_path.is_file():
        p.add(("consent_records",), f"同意记录文件不存在：{consent}", f"consent records file not found: {consent}")
        consent_path = None
    return Manifest(
        path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        name=_text(doc.data.get("name")) or path.stem, organisation=_text(doc.data.get("organisation")),
        ip_complaints=_text(doc.data.get("ip_complaints")), consent_records=consent_path,
        sources=sources, problems=p.items,
    )
