"""Mounts the response commands: ``fenghuo plan …`` and ``fenghuo incident …``."""

from __future__ import annotations

import click

from fenghuo.response.cli_plan import plan_group


def register(root: click.Group) -> None:
    root.add_command(plan_group)
