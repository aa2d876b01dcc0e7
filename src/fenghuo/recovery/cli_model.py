"""``fenghuo model propose | verify | status`` (CN-TC-18: important model updates re-assessed)."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.recovery import model_updates


@click.group("model")
def model_group() -> None:
    """模型版本 Model versions: an important update waits for a passing evaluation (CN-TC-18)."""


@model_group.command("propose")
@click.argument("service_id")
@click.argument("version")
@click.option("--important", is_flag=True, help="An important update: stays pending until a passing evaluation is attached")
@click.option("--note", default="")
@refusals
def propose_cmd(service_id: str, version: str, important: bool, note: str) -> None:
    """Register a model version / 登记模型版本。"""
    v = client().call(lambda db, a: model_updates.propose(db, a, service_id, version, important=important, note=note), "POST",
                      f"/api/v1/services/{service_id}/model", json={"version": version, "important": important, "note": note})
    console.print(f"[green]✓[/] {v['service']} {v['version']}: {v['status']}")


@model_group.command("verify")
@click.argument("service_id")
@click.argument("version")
@click.option("--run", "run_id", required=True, help="Evaluation run id (fenghuo eval run)")
@refusals
def verify_cmd(service_id: str, version: str, run_id: str) -> None:
    """Attach an evaluation run; a passing one activates the version / 验证并启用。"""
    v = client().call(lambda db, a: model_updates.verify(db, a, service_id, version, run_id), "POST",
                      f"/api/v1/services/{service_id}/model/{version}/verify", json={"run": run_id})
    console.print(f"[green]✓[/] {v['service']} {v['version']}: {v['status']} (run {v['run']})")


@model_group.command("status")
@click.argument("service_id")
@refusals
def status_cmd(service_id: str) -> None:
    """The version to serve and what is pending / 当前版本。"""
    print_json(client().call(lambda db, a: model_updates.status(db, a, service_id), "GET", f"/api/v1/services/{service_id}/model"))
