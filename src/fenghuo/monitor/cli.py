"""``fenghuo indicators SERVICE``: a service's indicators per window; ``fenghuo monitor coverage``:
registered, monitored and current services per jurisdiction (or the services themselves, a page
at a time). Indicators live in a running server's memory (monitoring folds events there), so
these commands need --server."""

from __future__ import annotations

import click

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, print_json, refusals


@click.command("indicators")
@click.argument("service")
@click.option("--json", "as_json", is_flag=True)
@refusals
def indicators(service: str, as_json: bool) -> None:
    """A service's indicators per window (needs --server) / 服务的监测指标。"""
    data = client().call(None, "GET", f"/api/v1/indicators/{service}")  # windows live in a server's memory
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    windows = list(data["windows"])
    t = Table(title=f"{service} 指标 / indicators")
    t.add_column("indicator")
    for w in windows:
        t.add_column(w, justify="right")
    for name in data["windows"][windows[0]]:
        vals = [data["windows"][w][name] for w in windows]
        t.add_row(name, *[str(v) for v in vals])
    console.print(t)
    g = data["guards"]
    console.print(f"guards live {g['live']}  versions {g['enforced_versions']}  failsafe {g['failsafe']}")


@click.group("monitor")
def monitor_group() -> None:
    """监测 Monitoring: stored telemetry summaries."""


@monitor_group.command("summary")
@click.argument("service")
@click.option("--from", "start", help="ISO 8601 time or UNIX seconds (inclusive)")
@click.option("--to", "end", help="ISO 8601 time or UNIX seconds (exclusive)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def summary(service: str, start: str | None, end: str | None, as_json: bool) -> None:
    """A service's stored hourly telemetry summaries (kept ≥ 183 days) / 每小时遥测汇总。"""
    from datetime import UTC, datetime

    from fenghuo.monitor import summaries

    params = {k: v for k, v in (("from", start), ("to", end)) if v}
    data = client().call(lambda db, a: summaries.for_service(db, a, service, start, end), "GET",
                         f"/api/v1/services/{service}/telemetry-summary", params=params or None)
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    t = Table(title=f"{service} 每小时汇总 / hourly telemetry summary")
    for c in ("hour (UTC)", "calls", "refusals", "in viol.", "out viol.", "out blocked", "complaints", "p50 ms", "p99 ms", "max ms"):
        t.add_column(c, justify="right")
    for h in data["hours"]:
        c = h["counts"]
        lat = [f"{h[k]:.0f}" if h[k] is not None else "-" for k in ("latency_p50", "latency_p99", "latency_max")]
        t.add_row(datetime.fromtimestamp(h["period_start"], UTC).strftime("%Y-%m-%d %H:00"), *[str(c.get(k, 0)) for k in (
            "calls", "refusals", "in_violations", "out_violations", "out_blocked", "complaints")], *lat)
    console.print(t)


def _needs_server(db, actor, after):  # a cli_pages.LocalPage: coverage has no local answer
    from fenghuo.platform.errors import FenghuoError

    raise FenghuoError("覆盖情况只在服务器内存中，请用 --server", "coverage lives in a server's memory: use --server URL", code="needs_server")


@monitor_group.command("coverage")
@click.option("--jurisdiction", help="the node to start from (default: the whole tree) / 起始辖区")
@click.option("--services", "status", type=click.Choice(["all", "unmonitored", "monitored", "enforcing_current", "stale_version"]),
              help="list the services (a page at a time) instead of the per-node counts / 逐个列出服务（分页）")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def coverage_cmd(jurisdiction: str | None, status: str | None, limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """Registered, monitored and current-version services per jurisdiction (needs --server) / 监测覆盖情况。"""
    if status:
        params = {"jurisdiction": jurisdiction, "status": None if status == "all" else status}
        page = cli_pages.walk(client(), _needs_server, "/api/v1/coverage/services", params, after=after, limit=limit,
                              everything=everything)
        if as_json:
            print_json(page.items)
        for r in [] if as_json else page.items:
            console.print(f"{r['service']}  {r['jurisdiction']}  {r['status']}  live {r['live_instances']}  "
                          f"switch v{r['switch_version']}  enforced {r['enforced_versions']}", markup=False)
        cli_pages.next_hint(page)
        return
    rows = client().call(None, "GET", "/api/v1/coverage", params={"jurisdiction": jurisdiction} if jurisdiction else None)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    t = Table(title="监测覆盖 / coverage")
    for c in ("jurisdiction", "level", "registered", "monitored", "share", "current version", "unmonitored", "stale"):
        t.add_column(c, justify="left" if c in ("jurisdiction", "level") else "right")
    for r in rows:
        share = f"{r['monitored_share']:.1%}" if r["monitored_share"] is not None else "-"
        t.add_row(f"{'  ' * (r['path'].count('/') - 1)}{r['jurisdiction']}", r["level"] or "", str(r["registered"]),
                  str(r["monitored"]), share, str(r["enforcing_current"]), str(r["unmonitored_count"]), str(r["stale_count"]))
    console.print(t)


def register(root: click.Group) -> None:
    root.add_command(indicators)
    root.add_command(monitor_group)
