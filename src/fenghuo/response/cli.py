"""Mounts the response commands: ``fenghuo plan …``, ``fenghuo incident …``, ``fenghuo plan
actions``, and the one ``fenghuo approve`` for switch commands and plan steps."""

from __future__ import annotations

import click

from fenghuo.control.cli import approve_command, show_command
from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.response import approvals
from fenghuo.response.cli_complaint import complaint_group
from fenghuo.response.cli_incident import actions_cmd, incident_group
from fenghuo.response.cli_plan import plan_group

PLAN_STEP_PREFIX = "act-"  # ids of plan steps (response.executor); anything else is a switch command


@click.command("approve")
@click.argument("command_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def approve(command_id: str, as_json: bool) -> None:
    """Approve a switch command or a plan step waiting for approval (a distinct person) / 审批。"""
    if not command_id.startswith(PLAN_STEP_PREFIX):
        return show_command(approve_command(command_id), as_json)
    v = client().call(lambda db, actor: approvals.approve(db, actor, command_id), "POST", f"/api/v1/plan-actions/{command_id}/approve")
    if as_json:
        return print_json(v)
    a = v["approvals"]
    console.print(f"{v['action']} {v['do']} {v['service']}: {v['status']} ({len(a['given'])}/{a['needed']} {a['role']}) {v['detail']}")


def register(root: click.Group) -> None:
    plan_group.add_command(actions_cmd)
    root.add_command(plan_group)
    root.add_command(incident_group)
    root.add_command(complaint_group)
    root.add_command(approve)
