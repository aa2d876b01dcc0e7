"""One place where the command line turns errors into one clear line (issue 14, item 10).

The root group (``fenghuo.cli.root``) is an :class:`ErrorBoundary`: whatever a command raises
on its way out is caught there, once, instead of a try/except in every command:

- a :class:`~fenghuo.platform.errors.FenghuoError` prints ``拒绝 / refused (code): message`` and
  exits with its ``exit_code`` (1 a refusal; 2 input that cannot be used: an unreadable file, a
  document over a reader limit, a name that would leave its folder) — ``cli_output.RootGroup``;
- an I/O or decoding error (``OSError``, ``UnicodeError``, a JSON or YAML error, a document
  nested beyond the interpreter's recursion) prints ``错误 / error: …`` naming the file where
  Python says which, and exits 2, as click does for a usage error.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys

import click
import yaml

from fenghuo.platform.cli_output import RootGroup, _args_ask_json, print_json_error

INPUT_ERRORS = (OSError, UnicodeError, json.JSONDecodeError, yaml.YAMLError, RecursionError, MemoryError)


def describe(exc: BaseException) -> str:
    """One line for an I/O or decoding error, in 中文 and English."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        where = exc.filename if exc.filename is not None else ""
        zh = {"FileNotFoundError": "文件或目录不存在", "PermissionError": "无权访问", "IsADirectoryError": "是目录而不是文件",
              "NotADirectoryError": "路径中有一段不是目录"}.get(type(exc).__name__, "读写失败")
        if isinstance(exc, FileNotFoundError) and not exc.filename and exc.args:
            return str(exc.args[0])  # a message of our own (e.g. "no such run"), already bilingual
        return f"{zh} / {what}" + (f": {where}" if where else "")
    if isinstance(exc, UnicodeError):
        return f"无法解码（不是 UTF-8 文本？）/ cannot decode the input (not UTF-8 text?): {exc}"
    if isinstance(exc, json.JSONDecodeError):
        return f"不是有效 JSON / not valid JSON: {exc}"
    if isinstance(exc, yaml.YAMLError):
        return f"不是有效 YAML / not valid YAML: {' '.join(str(exc).split())}"
    if isinstance(exc, RecursionError):
        return "输入嵌套过深 / the input is nested too deeply"
    return "输入过大，内存不足 / the input is too large to hold in memory"


class ErrorBoundary(RootGroup):
    """The root group: :class:`~fenghuo.platform.cli_output.RootGroup` prints refusals (text or,
    with ``--json``, one JSON object) and exits with their ``exit_code``; this adds the I/O and
    decoding errors (see the module docstring), in the same two shapes, with exit status 2."""

    def invoke(self, ctx: click.Context):
        pending = vars(ctx).get("_protected_args", vars(ctx).get("protected_args", []))
        as_json = _args_ask_json([*pending, *ctx.args])
        try:
            return super().invoke(ctx)
        except INPUT_ERRORS as exc:
            line = describe(exc)
            if as_json:
                print_json_error({"error": {"code": "unreadable", "message": line}})
            else:
                click.echo(f"错误 / error: {line}", err=True)
            sys.exit(2)
