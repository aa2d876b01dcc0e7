"""Command-line commands for this domain."""

import click


def register(root: click.Group) -> None:
    pass
