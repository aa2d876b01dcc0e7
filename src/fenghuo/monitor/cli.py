"""``fenghuo indicators SERVICE``: a service's indicators per window. Indicators live in a
running server's memory (monitoring folds events there), so the command needs --server."""

from __future__ import annotations

import click

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


def register(root: click.Group) -> None:
    root.add_command(indicators)
