"""Consent and authorisation records (CN-TC-07, CN-TC-08): ``consent_id`` → the user it belongs to.

A JSONL or CSV file with a ``consent_id`` column and optionally ``user_id`` and ``revoked``
(true/1/yes: the record no longer counts). One entry per consent, so it is held in memory: a
million users' consents are tens of megabytes, and a lookup per sample must be a dict access.
"""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

TRUE = {"1", "true", "yes", "y"}


def load_consents(path: Path | None) -> dict[str, str | None] | None:
    """None when the manifest names no consent records (then no consent can be shown)."""
    if path is None:
        return None
    out: dict[str, str | None] = {}
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    for r in rows:
        cid = str(r.get("consent_id") or "").strip()
        if not cid or str(r.get("revoked", "")).strip().lower() in TRUE:
            continue
        uid = r.get("user_id")
        out[cid] = str(uid) if uid not in (None, "") else None
    return out
