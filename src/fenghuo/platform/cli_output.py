"""How a command's failure reaches the terminal or a script: one bilingual line, or with
``--json`` one JSON object on stderr.

A script that asked for ``--json`` reads stdout as JSON and must not have to parse prose to
learn why nothing came: every refusal (a :class:`FenghuoError`, the same ``{"error": {...}}``
object the API answers with, ``code`` included) and every usage error click raises is then
printed to stderr as ``{"error": {"code", "message", "zh", "en", …}}`` and nothing else, with
the exit status it would have had as text (1 for a refusal, 2 for a usage or configuration
error). :class:`RootGroup` does this for every command under the root, so a command that lacks
``@refusals`` still answers a script in JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from fenghuo.platform.errors import FenghuoError


def json_requested(ctx: click.Context | None = None) -> bool:
    """Whether the running command (or one of its parents) was given ``--json``."""
    ctx = ctx or click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json"):
            return True
        ctx = ctx.parent
    return False


def _args_ask_json(args: list[str]) -> bool:
    """``--json`` among arguments not yet parsed (before any ``--``)."""
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args


def error_object(exc: FenghuoError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": exc.message, "zh": exc.zh, "en": exc.en,
                      **{k: v for k, v in exc.details.items() if _jsonable(v)}}}


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def print_json_error(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False), err=True)


def print_refusal(exc: FenghuoError, as_json: bool | None = None) -> None:
    """The refusal as text (``拒绝 / refused (code): …`` and each problem) or as a JSON object."""
    if json_requested() if as_json is None else as_json:
        print_json_error(error_object(exc))
        return
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    zh, en = getattr(exc, "label", ("拒绝", "refused"))
    err.print(f"[bold red]{zh} / {en}[/] ({exc.code}): {exc.message}", markup=True, soft_wrap=True)
    for p in exc.details.get("problems", [])[1:]:
        err.print(f"  - {p.get('field')}" + (f" (line {p['line']})" if p.get("line") else "") + f": {p.get('problem')}",
                  markup=False)


def click_error_object(exc: click.ClickException) -> dict[str, Any]:
    code = "usage" if isinstance(exc, click.UsageError) else "error"
    msg = exc.format_message()
    return {"error": {"code": code, "message": msg}}


class RootGroup(click.Group):
    """The root command: refusals and, with ``--json``, usage errors as JSON on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        # click 8.2 keeps the subcommand's arguments in _protected_args (protected_args is deprecated)
        pending = vars(ctx).get("_protected_args", vars(ctx).get("protected_args", []))
        as_json = _args_ask_json([*pending, *ctx.args])
        try:
            return super().invoke(ctx)
        except FenghuoError as exc:
            print_refusal(exc, as_json)
            sys.exit(getattr(exc, "exit_code", 1))
        except click.ClickException as exc:
            if not as_json:
                raise
            print_json_error(click_error_object(exc))
            sys.exit(exc.exit_code)
