"""``fenghuo eval run / judge / review / report``: commands that produce or read runs."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Mount the run commands on ``fenghuo eval``."""
