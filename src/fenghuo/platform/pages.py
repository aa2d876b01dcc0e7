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

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from fenghuo.platform.errors import Invalid

DEFAULT_LIMIT = 100
KEYS_FIRST = True
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


def decode(cursor: str, n: int, kinds: Sequence[type] | None = None) -> list[Any]:
    """The ``n`` sort values a cursor holds (each of its column's ``kinds``, when given: PostgreSQL
    will not compare a text column with a number); anything else is a 422 naming ``after``, as is
    what no database takes (an integer past 64 bits, text with NUL: 500s found by the fuzzer)."""
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
    if any((isinstance(v, int) and not -(2**63) <= v < 2**63) or (isinstance(v, str) and "\x00" in v) for v in values):
        raise bad
    if kinds is not None and not all(isinstance(v, k) for v, k in zip(values, kinds, strict=True)):
        raise bad
    return values


def _kind(col: Any) -> type:
    """The Python type of a sort column's values (str or int), as the cursor must hold them."""
    try:
        kind = col.type.python_type
    except (AttributeError, NotImplementedError):
        return str | int
    return kind if kind in (str, int) else str | int


def past(cols: Sequence[Any], values: Sequence[Any], *, desc: bool) -> Any:
    """Rows strictly after ``values`` in the order of ``cols`` (all ascending or all descending).
    Written ``first <= v AND (first < v OR (first = v AND <rest past>))`` (for descending): the
    leading bound is an index range on SQLite and PostgreSQL alike, where a bare OR made
    PostgreSQL filter the index from its start (76 ms for a page in the middle of 100,000
    warnings under load, 4 ms with the bound)."""
    first, rest = cols[0], cols[1:]
    if not rest:
        return first < values[0] if desc else first > values[0]
    bound = first <= values[0] if desc else first >= values[0]
    beyond = first < values[0] if desc else first > values[0]
    return and_(bound, or_(beyond, and_(first == values[0], past(rest, values[1:], desc=desc))))


def keyset(session: Session, q: Select, cols: Sequence[Any], *, after: str | None, limit: int, desc: bool = False,
           key: Callable[[Any], Sequence[Any]] | None = None, scalars: bool = True) -> tuple[list[Any], str | None]:
    """One page of ``q`` ordered by ``cols`` (the last one unique): the rows and the next cursor.
    ``key`` gives a row's sort values (default: the columns' attributes of the row)."""
    check_limit(limit)
    if after is not None:
        q = q.where(past(cols, decode(after, len(cols), [_kind(c) for c in cols]), desc=desc))
    order = [c.desc() if desc else c.asc() for c in cols]
    if scalars and key is None:
        # Keys first, rows second: the database orders and limits the keys alone (a province
        # regulator's page sorts the few thousand keys of its scope, not whole rows with their
        # JSON columns), then the page's rows are read by id.
        keys = session.execute(q.with_only_columns(*cols, maintain_column_froms=True).order_by(*order).limit(limit + 1)).all()
        page_keys = keys[:limit]
        ident = cols[-1]
        found = {getattr(r, ident.key): r for r in session.execute(
            select(ident.class_).where(ident.in_([k[-1] for k in page_keys]))).scalars()} if page_keys else {}
        return [found[k[-1]] for k in page_keys], encode(list(page_keys[-1])) if len(keys) > limit else None
    result = session.execute(q.order_by(*order).limit(limit + 1))
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
