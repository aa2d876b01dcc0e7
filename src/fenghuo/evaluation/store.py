"""A run on disk: ``<data_dir>/runs/<run_id>/``, append-only, so an interrupted run resumes.

``manifest.json`` fixes what the run is (bank hashes, seed, draws, endpoint, model, profile);
``answers.jsonl`` gets one line per answered question, written and flushed as soon as the
answer is judged, so after a crash every recorded question is known to be done and is never
asked again; ``reviews.jsonl`` holds people's verdicts; ``problems.jsonl`` what went wrong.
Reports are derived files, rewritten atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from fenghuo.platform.paths import data_dir, safe_name


def runs_dir() -> Path:
    path = data_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file and rename: a reader sees the old file or the new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict]:
    """Records of a JSONL file; a torn last line (killed mid-write) is ignored."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.run_id = path.name
        self._lock = threading.Lock()

    @classmethod
    def open(cls, run_id: str, base: Path | None = None) -> RunStore:
        path = (base or runs_dir()) / safe_name(run_id, "运行 id", "run id")
        if not (path / "manifest.json").exists():
            raise FileNotFoundError(f"没有这个运行 / no such run {run_id!r} under {path.parent}")
        return cls(path)

    @classmethod
    def create(cls, run_id: str, manifest: dict, base: Path | None = None) -> RunStore:
        path = (base or runs_dir()) / safe_name(run_id, "运行 id", "run id")
        path.mkdir(parents=True, exist_ok=True)
        store = cls(path)
        atomic_write(path / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        return store

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def update_manifest(self, **fields) -> None:
        with self._lock:
            atomic_write(self.path / "manifest.json", json.dumps(self.manifest | fields, ensure_ascii=False, indent=2))

    def _append(self, name: str, *records: dict) -> None:
        """Append whole lines and fsync once: a group of answers costs one disk flush."""
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        with self._lock, open(self.path / name, "a", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def append_answer(self, record: dict) -> None:
        self._append("answers.jsonl", record)

    def append_answers(self, records: list[dict]) -> None:
        if records:
            self._append("answers.jsonl", *records)

    def append_problem(self, record: dict) -> None:
        self._append("problems.jsonl", record)

    def append_review(self, record: dict) -> None:
        self._append("reviews.jsonl", record)

    def answers(self) -> list[dict]:
        """Answer records, the last one per item winning (a re-judge appends a newer line)."""
        latest: dict[str, dict] = {}
        for rec in read_jsonl(self.path / "answers.jsonl"):
            latest[rec["item_id"]] = rec
        return list(latest.values())

    def reviews(self) -> dict[str, dict]:
        latest: dict[str, dict] = {}
        for rec in read_jsonl(self.path / "reviews.jsonl"):
            latest[rec["item_id"]] = rec
        return latest

    def problems(self) -> list[dict]:
        return read_jsonl(self.path / "problems.jsonl")

    def done_ids(self) -> set[str]:
        return {rec["item_id"] for rec in read_jsonl(self.path / "answers.jsonl")}

    def write(self, name: str, data: bytes | str) -> Path:
        target = self.path / name
        atomic_write(target, data)
        return target
