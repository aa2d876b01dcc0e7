"""`fenghuo corpus sample|review|report`: the manual sample, its reviews and the report."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    pass
