"""CLI listings a page at a time (issue 19): ``--limit``, ``--after`` and ``--all``.

A listing command fetches one page (locally: the domain's page function; against a server: the
GET route, whose next cursor is the ``X-Next-Cursor`` header, which ``Client.call`` does not
return); with ``--all`` it walks every page, telling stderr how far it got on a long walk, and
without it prints where the next page starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from fenghuo.platform import client as clients
from fenghuo.platform.errors import FenghuoError
from fenghuo.platform.pages import DEFAULT_LIMIT, MAX_LIMIT, Page

LocalPage = Callable[[Any, Any, str | None], Page]  # (db, actor, after) -> Page
PROGRESS_EVERY = 10  # pages between progress lines on stderr during --all


def options(fn):
    """``--limit``, ``--after`` and ``--all`` (as ``everything``) for a listing command."""
    fn = click.option("--all", "everything", is_flag=True, help="every page (progress on stderr) / 列出全部（逐页读取）")(fn)
    fn = click.option("--after", help="the cursor printed after the previous page / 上一页末尾给出的游标")(fn)
    return click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=DEFAULT_LIMIT, show_default=True,
                        help="rows per page / 每页条数")(fn)


def fetch(cl: Any, local: LocalPage, path: str, params: dict[str, Any], after: str | None, limit: int) -> Page:
    """One page, here or on the server."""
    query = {k: v for k, v in {**params, "limit": limit, "after": after}.items() if v is not None and v is not False}
    http = getattr(cl, "http", None)
    if http is None:
        return cl.call(lambda db, actor: local(db, actor, after), "GET", path, params=query)
    import httpx

    try:
        r = http.get(path, params=query)
    except httpx.HTTPError as exc:
        raise FenghuoError(f"无法连接服务器 {cl.where}：{exc}", f"cannot reach server {cl.where}: {exc}", code="unreachable") from None
    if r.status_code >= 400:
        raise clients._error(r.status_code, r.text, clients._json_or_none(r))
    return Page(r.json(), r.headers.get("X-Next-Cursor"))


def walk(cl: Any, local: LocalPage, path: str, params: dict[str, Any], *, after: str | None, limit: int,
         everything: bool) -> Page:
    """The page asked for, or with ``everything`` every page from ``after`` on (``next`` None)."""
    page = fetch(cl, local, path, params, after, limit)
    if not everything:
        return page
    rows, n = list(page.items), 1
    while page.next:
        page = fetch(cl, local, path, params, page.next, limit)
        rows += page.items
        n += 1
        if n % PROGRESS_EVERY == 0:
            click.echo(f"… {len(rows):,} 条 / rows ({n} 页 / pages)", err=True)
    return Page(rows, None)


def next_hint(page: Page) -> None:
    if page.next:
        click.echo(f"下一页 / next page: --after {page.next}  (或 / or --all)", err=True)
