"""``fenghuo filing package SERVICE``: export the filing attachments fenghuo holds (CN-TC-30)."""

from __future__ import annotations

import click

from fenghuo.filing import package as pkg
from fenghuo.platform.cli_support import client, console, print_json, refusals


@click.group("filing")
def filing_group() -> None:
    """备案 Filing: numbers and the attachments fenghuo can export (CN-TC-30)."""


@filing_group.command("package")
@click.argument("service_id")
@click.option("--out", "out_dir", default="filing", show_default=True, type=click.Path(file_okay=False))
@click.option("--run", "run_id", help="Evaluation run whose self-assessment and question set go in (附件1, 附件5)")
@click.option("--lexicon", "lexicons", multiple=True, help="Lexicon file(s) for 附件4 (default: the shipped lexicon)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def package_cmd(service_id: str, out_dir: str, run_id: str | None, lexicons: tuple[str, ...], as_json: bool) -> None:
    """Write 附件1/4/5 and a manifest with the filing numbers; list what fenghuo does not hold."""
    m = client().call(lambda db, a: pkg.package(db, a, service_id, out_dir, run_id=run_id, lexicons=list(lexicons) or None),
                      "POST", None)
    if as_json:
        return print_json(m)
    console.print(f"[green]✓[/] {m['folder']}")
    for name in m["files"]:
        console.print(f"  {name}")
    for k, why in m["missing"].items():
        console.print(f"  [yellow]缺 missing {k}[/]: {why}")


def register(root: click.Group) -> None:
    root.add_command(filing_group)
