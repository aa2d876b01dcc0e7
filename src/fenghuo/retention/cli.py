"""``fenghuo retention status | prune`` (local: files and the database this machine holds)."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.retention import prune as pruning
from fenghuo.retention import status as stat


@click.group("retention")
def retention_group() -> None:
    """留存 Retention: records kept ≥ 6 months (CN-PO-20, CN-LB-18, EU-06)."""


@retention_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@refusals
def status_cmd(as_json: bool) -> None:
    """What each store keeps and since when; exits 1 when a store keeps less than the period."""
    v = client().call(lambda db, a: stat.status(db), "GET", None)
    if as_json:
        print_json(v)
    else:
        console.print(f"留存期限 retention {v['retention_days']} d (minimum {v['minimum_days']}); prune cut-off {v['cutoff']}")
        for r in v["stores"]:
            mark = "[green]ok[/]" if r["ok"] else "[red]SHORT 不足[/]"
            console.print(f"  {r['store']:<44} {mark}  records {r['records'] if r['records'] is not None else '-'}  "
                          f"oldest {r['oldest'] or '-'}  kept {r['kept']}  — {r['note']}")
    if not v["ok"]:
        raise SystemExit(1)


@retention_group.command("prune")
@click.option("--what", type=click.Choice(sorted(pruning.WHAT)), required=True)
@click.option("--before", required=True, help="Delete what is older than this date (refused if inside the retention period)")
@click.option("--dry-run", is_flag=True)
@refusals
def prune_cmd(what: str, before: str, dry_run: bool) -> None:
    """Delete old evaluation runs, report files or hourly telemetry summaries; never the ledger, never younger than the period."""
    v = client().call(lambda db, a: pruning.prune(db, a, what, before, dry_run=dry_run), "POST", None)
    n = v["pruned"] if isinstance(v["pruned"], int) else len(v["pruned"])
    console.print(f"{'would prune' if dry_run else 'pruned'} {n} {what} before {v['before']}")


def register(root: click.Group) -> None:
    root.add_command(retention_group)
