"""Every corpus run on disk and in the ledger, so an auditor can re-run it and compare.

On disk: ``<data_dir>/corpus/<kind>-<time>-<hex>/`` holds ``run.json`` (what was run: manifest
and data-file hashes, settings) and the outputs (``summary.json``, ``results.parquet``,
``sample.jsonl``, ``reviews.jsonl``). In the ledger: one entry per run, kind ``corpus.<kind>``,
subject ``corpus:<name>``, with the manifest hash, every data file's hash, the settings and the
hash of the results — the same numbers from the same inputs give the same results hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fenghuo.corpus.manifest import Manifest
from fenghuo.platform.paths import data_dir


def corpus_dir() -> Path:
    path = data_dir() / "corpus"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_dir(kind: str, base: Path | None = None) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = (base or corpus_dir()) / f"{kind}-{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    return path


def latest_run(kind: str, base: Path | None = None) -> Path | None:
    """The newest finished run of a kind (one with a ``summary.json``)."""
    root = base or corpus_dir()
    runs = sorted((p for p in root.glob(f"{kind}-*") if (p / "summary.json").exists()), key=lambda p: p.name)
    return runs[-1] if runs else None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_hashes(m: Manifest) -> dict[str, str]:
    from fenghuo.corpus.readers import open_data

    out = {}
    for f in m.files():
        digest = hashlib.sha256()
        with open_data(f) as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
        out[f.name] = digest.hexdigest()
    return out


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def results_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def ledger_payload(kind: str, run: Path, m: Manifest | None, files: dict[str, str] | None,
                   settings: dict[str, Any], results_sha: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {"run": run.name, "kind": kind, "manifest": str(m.path) if m else None,
            "manifest_sha256": m.sha256 if m else None, "data_files": files or {},
            "settings": settings, "results_sha256": results_sha, "figures": figures}


def record(db, actor: str, subject: str, kind: str, payload: dict[str, Any]) -> int:
    """Append the run to the ledger; returns the entry's sequence number."""
    from fenghuo.ledger import store as ledger

    with db.transaction() as session:
        entry = ledger.append(session, db.clock, f"corpus.{kind}", subject, actor, payload)
        session.flush()
        return entry.seq
