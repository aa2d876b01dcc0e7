"""Keyset pages for every listing (issue 19): ``WHERE <visible> AND <filters> AND (sort, id) past
the cursor ORDER BY sort, id LIMIT n+1``, one indexed query per page whatever the table's size.

The services listing pages on the id alone (``control.listing``); the other listings are
ordered by a time (newest first for warnings, incidents, complaints, silences and the delivery
log; oldest first for what awaits someone) with the id as tie-break, so their cursor carries
both. It is opaque to clients (base64url of the sort values): they pass back what they were
given. A page is stable while rows are added: no row is skipped or repeated, because the
comparison is on a unique (sort, id) and each listing has an index in that order.

HTTP listings answer a JSON list, as ``GET /api/v1/services`` does, and name the next page in
the ``X-Next-Cursor`` header (and ``Link: <…>; rel="next"``); no header: this was the last.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from fenghuo.platform.errors import Invalid

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass
class Page:
    items: list[Any] = field(default_factory=list)
    next: str | None = None  # pass as ``after`` for the next page; None: this was the last


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit 应在 1 到 {MAX_LIMIT} 之间", f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def encode(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, n: int) -> list[Any]:
    """The ``n`` sort values a cursor holds; anything else is a 422 naming ``after``."""
    bad = Invalid("after 不是本列表给出的游标（请用上一页的 X-Next-Cursor）",
                  "after is not a cursor this listing gave (use the previous page's X-Next-Cursor)", field="after")
    if not cursor or len(cursor) > 2000:
        raise bad
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(values, list) or len(values) != n or not all(isinstance(v, str | int) and not isinstance(v, bool)
                                                                   for v in values):
        raise bad
    return values


def past(cols: Sequence[Any], values: Sequence[Any], *, desc: bool) -> Any:
    """Rows strictly after ``values`` in the order of ``cols`` (all ascending or all descending),
    written as nested OR/AND rather than a row-value comparison so both SQLite and PostgreSQL
    turn its first term into an index range."""
    first, rest = cols[0], cols[1:]
    beyond = first < values[0] if desc else first > values[0]
    if not rest:
        return beyond
    return or_(beyond, and_(first == values[0], past(rest, values[1:], desc=desc)))


def keyset(session: Session, q: Select, cols: Sequence[Any], *, after: str | None, limit: int, desc: bool = False,
           key: Callable[[Any], Sequence[Any]] | None = None, scalars: bool = True) -> tuple[list[Any], str | None]:
    """One page of ``q`` ordered by ``cols`` (the last one unique): the rows and the next cursor.
    ``key`` gives a row's sort values (default: the columns' attributes of the row)."""
    check_limit(limit)
    if after is not None:
        q = q.where(past(cols, decode(after, len(cols)), desc=desc))
    q = q.order_by(*[c.desc() if desc else c.asc() for c in cols]).limit(limit + 1)
    result = session.execute(q)
    rows = list(result.scalars() if scalars else result.all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    values = key(last) if key else [getattr(last, c.key) for c in cols]
    return rows, encode(values)


def link_headers(response: Any, request: Any, page: Page) -> None:
    """``X-Next-Cursor`` and ``Link: <…>; rel="next"`` on an HTTP listing that has more."""
    if page.next:
        response.headers["X-Next-Cursor"] = page.next
        url = request.url.include_query_params(after=page.next)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


def _query_params() -> tuple[Any, Any]:
    from fastapi import Query

    after = Query(None, max_length=2000, description="the previous page's X-Next-Cursor / 上一页的 X-Next-Cursor")
    limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"rows per page, 1–{MAX_LIMIT} / 每页条数")
    return after, limit


# The ``after`` and ``limit`` query parameters of every paginated route (a bad limit is a 422
# naming ``query.limit`` before the route runs; a bad cursor one naming ``after``).
AFTER, LIMIT = _query_params()
