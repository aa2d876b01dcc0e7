"""How long records are kept, and the rule every pruning obeys. Pure: no framework.

Six months is the floor of three rows of regulations.md: CN-PO-20 (network logs ≥ 6 months),
CN-LB-18 (logs of unlabelled-content recipients ≥ 6 months), EU-06 (automatically generated
logs ≥ 6 months). 183 days covers any six calendar months. ``FENGHUO_RETENTION_DAYS`` may set a
longer period (a sector rule); a shorter one is refused, never silently raised.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

MIN_DAYS = 183  # six months, whichever six (CN-PO-20, CN-LB-18, EU-06)
ENV = "FENGHUO_RETENTION_DAYS"


class RetentionError(ValueError):
    """A retention setting or a pruning that would keep records for less than the law asks."""


def days(env: dict[str, str] | None = None) -> int:
    """The retention period in days: ``FENGHUO_RETENTION_DAYS`` or 183; below 183 is refused."""
    raw = (env if env is not None else os.environ).get(ENV)
    if raw is None or not str(raw).strip():
        return MIN_DAYS
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise RetentionError(f"{ENV}={raw!r} 不是天数 / is not a number of days") from None
    if value < MIN_DAYS:
        raise RetentionError(f"{ENV}={value} 少于六个月（{MIN_DAYS} 天，CN-PO-20/EU-06）/ is less than six months "
                             f"({MIN_DAYS} days, CN-PO-20, EU-06)")
    return value


def cutoff(now: datetime, keep_days: int) -> datetime:
    """Records older than this may be pruned; younger ones never."""
    return now - timedelta(days=keep_days)


def refuse_younger(before: datetime, now: datetime, keep_days: int) -> None:
    """Refuse a pruning of records up to ``before`` when that would delete anything younger than
    the retention period."""
    limit = cutoff(now, keep_days)
    if before > limit:
        raise RetentionError(f"拒绝：{before.isoformat()} 晚于留存期限 {limit.isoformat()}（保留 {keep_days} 天）/ refused: "
                             f"{before.isoformat()} is after the retention cut-off {limit.isoformat()} (records are kept "
                             f"{keep_days} days)")
