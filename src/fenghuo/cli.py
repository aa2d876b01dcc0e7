"""The ``fenghuo`` command line: a thin root that mounts each domain's commands.

Each domain owns a ``cli`` module with a ``register(root)`` function; this file only lists
them, so adding a domain never means editing another domain's code.
"""

from __future__ import annotations

import importlib

import click

from fenghuo import __version__
from fenghuo.platform import config_file
from fenghuo.platform.cli_errors import ErrorBoundary  # RootGroup + I/O and decoding errors → exit 2 (issue 14)

# Order is the order of `fenghuo --help`.
DOMAIN_CLI_MODULES = [
    "fenghuo.platform.cli",
    "fenghuo.platform.config_cli",
    "fenghuo.registry.cli",
    "fenghuo.control.service_cli",
    "fenghuo.control.cli",
    "fenghuo.control.user_measure_cli",  # fenghuo user-measure (issue 18, CN-PO-09)
    "fenghuo.ledger.cli",
    "fenghuo.api.cli",
    "fenghuo.monitor.cli",
    "fenghuo.alerts.cli",
    "fenghuo.checks.cli",
    "fenghuo.corpus.cli",
    "fenghuo.evaluation.cli",
    "fenghuo.replay.cli",
    "fenghuo.guard.cli",
    "fenghuo.guard.label_cli",
    "fenghuo.response.cli",
    "fenghuo.recovery.cli",
    "fenghuo.retention.cli",
    "fenghuo.filing.cli",
    "fenghuo.scale.cli",
    "fenghuo.demo",
]


def _epilog() -> str:
    """The configuration file and every environment variable, from the one table of keys."""
    keys = "\n".join(f"  {k.env:<27} {k.en}" for k in config_file.KEYS)
    return (f"\b\nConfiguration / 配置: {config_file.FILE_NAME} in the user configuration directory\n"
            f"({config_file.default_path()}), or --config PATH / {config_file.ENV_CONFIG}.\n"
            "Environment variables override the file; flags override both.\n"
            "`fenghuo config show` prints each value in force and where it came from.\n\n"
            f"\b\nEnvironment variables / 环境变量 (each also a key of {config_file.FILE_NAME}, lower case, no prefix):\n"
            f"{keys}\n\n\b\nShell completion / 命令补全: fenghuo completion bash|zsh|fish")


@click.group(cls=ErrorBoundary, epilog=_epilog(),
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fenghuo")
@click.option("--config", "config_path", metavar="PATH", type=click.Path(dir_okay=False),
              help=f"Configuration file (default: {config_file.FILE_NAME} in the user config directory; "
                   f"env {config_file.ENV_CONFIG}) / 配置文件")
@click.option("--server", envvar="FENGHUO_SERVER", metavar="URL",
              help="Talk to a running control plane instead of the local database / 连接运行中的控制面")
@click.option("--token", envvar="FENGHUO_TOKEN", metavar="TOKEN", help="Bearer token for --server / 访问令牌")
@click.option("--db", envvar="FENGHUO_DB", metavar="URL|PATH",
              help="Local database: a SQLite path or postgresql:// URL (default: the user data directory) / 本地数据库")
@click.pass_context
def root(ctx: click.Context, config_path: str | None, server: str | None, token: str | None, db: str | None) -> None:
    """烽火 fenghuo — 人工智能服务的技术监测、风险预警与应急响应。

    Technical monitoring, graded early warning and emergency response for AI services:
    a registry with risk grading, a switch that pauses or stops a service, and a
    tamper-evident ledger of everything that happened.

    Without --server, commands act on the local database.
    """
    # fenghuo.toml: flags and the environment win; what the file sets beyond them goes into the
    # environment for this invocation (platform.config_file), undone when the command ends.
    loaded = config_file.load(config_path)
    ctx.call_on_close(config_file.export(loaded))
    given = loaded.values
    ctx.obj = {"server": server or given.get("server"), "token": token or given.get("token"),
               "db": db or given.get("db"), "config": loaded}


for _name in DOMAIN_CLI_MODULES:
    importlib.import_module(_name).register(root)


def main() -> None:
    root(prog_name="fenghuo")


if __name__ == "__main__":  # pragma: no cover
    main()
