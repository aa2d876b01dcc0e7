"""`fenghuo demo`."""

import click


def register(root: click.Group) -> None:
    pass
