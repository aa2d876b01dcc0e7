"""`fenghuo user-measure apply|lift|list`: warn, restrict or suspend one end user of a service
(CN-PO-09; ``control.user_measures``), enforced by the service's guards within about a second."""

from __future__ import annotations

import click

from fenghuo.platform import client as clients
from fenghuo.platform.cli_pages import PROGRESS_EVERY, next_hint
from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.platform.errors import FenghuoError
from fenghuo.platform.pages import DEFAULT_LIMIT, MAX_LIMIT, Page


@click.group("user-measure")
def user_measure_group() -> None:
    """Measures on one end user of a service (warn, restrict, suspend) / 针对单个用户的措施（警示、限制、暂停）。"""


def _line(m: dict) -> str:
    rate = f" {m['rate']}/min" if m.get("rate") else ""
    until = f" until {m['until']}" if m.get("until") else ""
    ended = f"  lifted {m['lifted_at']} by {m['lifted_by']}" if m.get("lifted_at") else ""
    return f"{m['service']}  {m['user']}  {m['measure']}{rate}{until}  by {m['applied_by']}: {m['reason']}{ended}"


@user_measure_group.command("apply")
@click.argument("service")
@click.argument("user")
@click.option("--measure", type=click.Choice(["warn", "restrict", "suspend"]), required=True,
              help="warn: answers carry a notice; restrict: --rate calls a minute; suspend: refused / 警示、限制、暂停")
@click.option("--rate", type=int, default=None, help="restrict: requests per minute / 每分钟请求数")
@click.option("--until", default=None, help="expiry: a duration (2h, 7d) or an ISO time / 截止时间")
@click.option("--reason", required=True, help="why (ledger) / 理由（记入账本）")
@click.option("--json", "as_json", is_flag=True)
@refusals
def apply_cmd(service: str, user: str, measure: str, rate: int | None, until: str | None, reason: str, as_json: bool) -> None:
    """Apply a measure to one end user (replaces the one in force) / 对单个用户采取措施。"""
    from fenghuo.control import user_measures

    m = client().call(lambda db, actor: user_measures.apply(db, actor, service, user, measure, reason, rate=rate, until=until),
                      "POST", f"/api/v1/services/{service}/user-measures",
                      json={"user": user, "measure": measure, "rate": rate, "until": until, "reason": reason})
    if as_json:
        print_json(m)
        return
    console.print(f"已采取措施 / applied: {_line(m)}", markup=False)


@user_measure_group.command("lift")
@click.argument("service")
@click.argument("user")
@click.option("--reason", default="", help="why / 理由")
@click.option("--json", "as_json", is_flag=True)
@refusals
def lift_cmd(service: str, user: str, reason: str, as_json: bool) -> None:
    """Lift the measure in force on one end user / 解除措施。"""
    from fenghuo.control import user_measures

    m = client().call(lambda db, actor: user_measures.lift(db, actor, service, user, reason),
                      "POST", f"/api/v1/services/{service}/user-measures/lift", json={"user": user, "reason": reason})
    if as_json:
        print_json(m)
        return
    console.print(f"已解除 / lifted: {_line(m)}", markup=False)


def _fetch(cl, service: str, include_ended: bool, after: str | None, limit: int) -> Page:
    """One page of measures, here or on the server (whose next cursor is ``X-Next-Cursor``)."""
    from fenghuo.control import user_measures

    path = f"/api/v1/services/{service}/user-measures"
    query = {"all": include_ended, "limit": limit, **({"after": after} if after else {})}
    http = getattr(cl, "http", None)
    if http is None:
        out = cl.call(lambda db, actor: user_measures.listing(db, actor, service, include_ended=include_ended, after=after,
                                                              limit=limit), "GET", path, params=query)
        return Page(out["measures"], out.get("next"))
    import httpx

    try:
        r = http.get(path, params=query)
    except httpx.HTTPError as exc:
        raise FenghuoError(f"无法连接服务器 {cl.where}：{exc}", f"cannot reach server {cl.where}: {exc}", code="unreachable") from None
    if r.status_code >= 400:
        raise clients._error(r.status_code, r.text, clients._json_or_none(r))
    return Page(r.json()["measures"], r.headers.get("X-Next-Cursor"))


@user_measure_group.command("list")
@click.argument("service")
@click.option("--all", "include_ended", is_flag=True, help="lifted and expired ones too / 含已解除、已过期")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=DEFAULT_LIMIT, show_default=True, help="rows per page / 每页条数")
@click.option("--after", help="the cursor printed after the previous page / 上一页末尾给出的游标")
@click.option("--every-page", "everything", is_flag=True, help="every page (progress on stderr) / 列出全部（逐页读取）")
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(service: str, include_ended: bool, limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """Measures on a service's end users, oldest first, a page at a time / 列出用户措施（分页）。"""
    cl = client()
    page = _fetch(cl, service, include_ended, after, limit)
    rows, n = list(page.items), 1
    while everything and page.next:
        page = _fetch(cl, service, include_ended, page.next, limit)
        rows += page.items
        n += 1
        if n % PROGRESS_EVERY == 0:
            click.echo(f"… {len(rows):,} 条 / rows ({n} 页 / pages)", err=True)
    if as_json:
        print_json({"service": service, "measures": rows, "next": page.next})
    elif not rows:
        console.print(f"{service}: 无生效的用户措施 / no user measures in force")
    for m in [] if as_json else rows:
        console.print(_line(m), markup=False)
    next_hint(page)


def register(root: click.Group) -> None:
    root.add_command(user_measure_group)
