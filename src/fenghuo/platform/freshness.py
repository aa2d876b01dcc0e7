"""How long ago a set of files was last changed: the update-frequency duties of TC260-003 §8
(keyword library updated at least weekly, CN-TC-20; test banks at least monthly, CN-TC-21)
read from the files a deployment actually uses.

The newest modification time stands for "last updated": a library is as fresh as its most
recently edited file. A copy that resets times (a fresh checkout) reads as fresh, so a filing
should keep the files' own history too; this is the check software can run every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

DAY = 86400.0
LEXICON_MAX_DAYS = 7  # CN-TC-20: updated at least once a week
BANK_MAX_DAYS = 31  # CN-TC-21: updated at least once a month


def newest(paths: Iterable[str | Path]) -> datetime | None:
    """The newest modification time among the files (directories: the files under them)."""
    times = []
    for p in map(Path, paths):
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        times += [f.stat().st_mtime for f in files if f.exists()]
    return datetime.fromtimestamp(max(times), UTC) if times else None


def age_days(updated: datetime | None, now: datetime | None = None) -> float | None:
    if updated is None:
        return None
    return round(((now or datetime.now(UTC)) - updated).total_seconds() / DAY, 2)
