"""The ``fenghuo`` command line: a thin root that mounts each domain's commands.

Each domain owns a ``cli`` module with a ``register(root)`` function; this file only lists
them, so adding a domain never means editing another domain's code.
"""

from __future__ import annotations

import importlib

import click

from fenghuo import __version__

# Order is the order of `fenghuo --help`.
DOMAIN_CLI_MODULES = [
    "fenghuo.platform.cli",
    "fenghuo.registry.cli",
    "fenghuo.control.service_cli",
    "fenghuo.control.cli",
    "fenghuo.ledger.cli",
    "fenghuo.api.cli",
    "fenghuo.monitor.cli",
    "fenghuo.alerts.cli",
    "fenghuo.checks.cli",
    "fenghuo.evaluation.cli",
    "fenghuo.replay.cli",
    "fenghuo.guard.cli",
    "fenghuo.response.cli",
    "fenghuo.recovery.cli",
    "fenghuo.scale.cli",
    "fenghuo.demo",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fenghuo")
@click.option("--server", envvar="FENGHUO_SERVER", metavar="URL",
              help="Talk to a running control plane instead of the local database / 连接运行中的控制面")
@click.option("--token", envvar="FENGHUO_TOKEN", metavar="TOKEN", help="Bearer token for --server / 访问令牌")
@click.option("--db", envvar="FENGHUO_DB", metavar="URL|PATH",
              help="Local database: a SQLite path or postgresql:// URL (default: the user data directory) / 本地数据库")
@click.pass_context
def root(ctx: click.Context, server: str | None, token: str | None, db: str | None) -> None:
    """烽火 fenghuo — 人工智能服务的技术监测、风险预警与应急响应。

    Technical monitoring, graded early warning and emergency response for AI services:
    a registry with risk grading, a switch that pauses or stops a service, and a
    tamper-evident ledger of everything that happened.

    Without --server, commands act on the local database.
    """
    ctx.obj = {"server": server, "token": token, "db": db}


for _name in DOMAIN_CLI_MODULES:
    importlib.import_module(_name).register(root)


def main() -> None:
    root(prog_name="fenghuo")


if __name__ == "__main__":  # pragma: no cover
    main()
