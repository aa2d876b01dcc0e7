"""Ledger operations a person or auditor asks for: verify, export, checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fenghuo.ledger import store
from fenghuo.ledger.chain import ChainStatus, redact, verify_chain
from fenghuo.ledger.checkpoint import Checkpoint, CheckpointResult, sign, verify_against
from fenghuo.ledger.models import LedgerCheckpoint
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid


def verify(db: Database) -> ChainStatus:
    with db.reader() as s:
        return store.verify(s)


def verify_report(db: Database) -> dict[str, Any]:
    """The verification as the API and the CLI show it."""
    status = verify(db)
    body: dict[str, Any] = {"ok": status.ok, "entries": status.count, "head_seq": status.head_seq, "head_hash": status.head_hash}
    if status.problem:
        zh, en = status.problem.describe()
        body["problem"] = {**asdict(status.problem), "message": f"{zh} / {en}"}
    return body


def verify_db_against(db: Database, cp: Checkpoint, trusted_public_key: bytes | None = None) -> CheckpointResult:
    with db.reader() as s:
        return verify_against(store.iter_entries(s), cp, trusted_public_key)


def checkpoint(db: Database) -> Checkpoint:
    """Sign the current head and keep the checkpoint in the database as well."""
    with db.transaction() as s:
        seq, head = store.head(s)
        cp = sign(seq, head, iso(db.clock.now()))
        s.add(LedgerCheckpoint(seq=cp.seq, head=cp.head, ts=cp.ts, key_id=cp.key_id, signature=cp.signature))
    return cp


def latest_checkpoint_seq(db: Database) -> int:
    from sqlalchemy import func, select

    with db.reader() as s:
        return s.execute(select(func.coalesce(func.max(LedgerCheckpoint.seq), 0))).scalar_one()


def export_lines(db: Database, keep: Callable[[dict[str, Any]], bool] | None = None) -> Iterator[str]:
    """The ledger as JSONL lines in seq order: what an auditor verifies without the database.

    ``keep``: for a scoped export, which entries are shown whole; the others are replaced by
    their hashes (``chain.redact``), so the file still verifies against a signed checkpoint of
    the full chain and reveals nothing else of them."""
    with db.reader() as s:
        for e in store.iter_entries(s):
            shown = e if keep is None or keep(e) else redact(e)
            yield json.dumps(shown, ensure_ascii=False, sort_keys=True) + "\n"


def read_export(path: str | Path) -> Iterator[dict[str, Any]]:
    """Entries of an exported file; a line that is not an entry is named by its line number."""
    p = Path(path)
    if not p.exists():
        raise Invalid(f"文件不存在：{p}", f"file not found: {p}")
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
                if isinstance(e, dict) and e.get("redacted") is True:
                    _ = (e["seq"], e["prev_hash"], e["hash"])
                else:
                    _ = (e["seq"], e["ts"], e["kind"], e["subject"], e["actor"], e["payload"], e["prev_hash"], e["hash"])
            except (ValueError, KeyError, TypeError) as exc:
                raise Invalid(f"{p}:{lineno} 不是账本条目：{exc}", f"{p}:{lineno} is not a ledger entry: {exc}") from None
            yield e


def verify_file(path: str | Path) -> ChainStatus:
    return verify_chain(read_export(path))


def verify_file_against(path: str | Path, cp: Checkpoint, trusted_public_key: bytes | None = None) -> CheckpointResult:
    return verify_against(read_export(path), cp, trusted_public_key)
