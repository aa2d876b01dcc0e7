"""Mounts the response commands: ``fenghuo plan …``, ``fenghuo incident …``, ``fenghuo plan
actions`` and plan steps in ``fenghuo approve``."""

from __future__ import annotations

import click

from fenghuo.response.cli_incident import actions_cmd, extend_approve, incident_group
from fenghuo.response.cli_plan import plan_group


def register(root: click.Group) -> None:
    plan_group.add_command(actions_cmd)
    root.add_command(plan_group)
    root.add_command(incident_group)
    extend_approve(root)  # after control.cli registered the switch's approve
