"""`fenghuo user-measure apply|lift|list`: warn, restrict or suspend one end user of a service
(CN-PO-09; ``control.user_measures``), enforced by the service's guards within about a second."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import client, console, print_json, refusals


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


@user_measure_group.command("list")
@click.argument("service")
@click.option("--all", "include_ended", is_flag=True, help="lifted and expired ones too / 含已解除、已过期")
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(service: str, include_ended: bool, as_json: bool) -> None:
    """Measures in force on a service's end users / 列出用户措施。"""
    from fenghuo.control import user_measures

    out = client().call(lambda db, actor: user_measures.listing(db, actor, service, include_ended=include_ended),
                        "GET", f"/api/v1/services/{service}/user-measures", params={"all": include_ended})
    if as_json:
        print_json(out)
        return
    if not out["measures"]:
        console.print(f"{service}: 无生效的用户措施 / no user measures in force")
    for m in out["measures"]:
        console.print(_line(m), markup=False)


def register(root: click.Group) -> None:
    root.add_command(user_measure_group)
