"""Helpers every domain's CLI uses: the console, the client chosen by the global options, JSON
output, and turning refusals into one bilingual line and a non-zero exit."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

import click
from rich.console import Console

from fenghuo.platform.cli_output import print_refusal
from fenghuo.platform.client import Client, make_client
from fenghuo.platform.errors import FenghuoError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STATE_STYLE = {"running": "green", "degraded": "yellow", "throttled": "yellow", "paused": "bold red",
               "stopped": "bold white on red", "canary": "cyan"}
STATE_ZH = {"running": "运行", "degraded": "降级（备份）", "throttled": "限流", "paused": "暂停运行",
            "stopped": "已阻断", "canary": "灰度恢复"}


def styled_state(state: str) -> str:
    return f"[{STATE_STYLE.get(state, 'white')}]{state} {STATE_ZH.get(state, '')}[/]"


def client() -> Client:
    """The client chosen by the root options (--server/--token/--db), made once per invocation."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    obj = root.obj or {}
    if "client" not in obj:
        obj["client"] = make_client(obj.get("server"), obj.get("token"), obj.get("db"))
        root.obj = obj
    return obj["client"]


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def refusals(fn):
    """Print a FenghuoError as ``拒绝 / refused`` with its message (with ``--json``: as one JSON
    object on stderr) and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FenghuoError as exc:
            print_refusal(exc)  # with --json: one JSON object on stderr (platform.cli_output)
            sys.exit(getattr(exc, "exit_code", 1))

    return wrapper
