"""`fenghuo config show|template` and `fenghuo completion bash|zsh|fish`."""

from __future__ import annotations

import click

from fenghuo.platform import config_file
from fenghuo.platform.cli_support import console, print_json, refusals

SOURCE_ZH = {"flag": "命令行参数", "env": "环境变量", "file": "配置文件", "default": "默认"}


def loaded_config() -> config_file.Loaded:
    """The configuration the root read for this invocation (or read now, for embedders)."""
    root = click.get_current_context().find_root()
    obj = root.obj or {}
    return obj.get("config") or config_file.load(None)


def root_flags() -> dict[str, str | None]:
    """The root flags given on the command line (not those click filled from the environment)."""
    root = click.get_current_context().find_root()
    out: dict[str, str | None] = {}
    for name in ("server", "token", "db"):
        if root.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            out[name] = root.params.get(name)
    return out


@click.group("config")
def config_group() -> None:
    """Configuration: fenghuo.toml, environment, flags / 配置文件、环境变量与参数。"""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@refusals
def show(as_json: bool) -> None:
    """Print every setting in force and where it came from / 显示生效配置及其来源。

    Precedence: flag > environment > file > default. Secrets are shown by their first four
    characters only.
    """
    loaded = loaded_config()
    values = config_file.effective(loaded, root_flags())
    secrets = [k for k in loaded.values if config_file.BY_NAME[k].kind == "secret"]
    if secrets and loaded.path.stat().st_mode & 0o077:
        click.echo(f"注意 / note: {loaded.path} 含有 {', '.join(secrets)} 且他人可读，建议 chmod 600 / holds {', '.join(secrets)} "
                   f"and is readable by others (mode {loaded.path.stat().st_mode & 0o777:o}): chmod 600 it", err=True)
    if as_json:
        print_json({"file": {"path": str(loaded.path), "exists": loaded.exists, "chosen_by": loaded.chosen_by},
                    "values": {v.key.name: {"value": config_file.masked(v.key, v.value), "source": v.source,
                                            "env": v.key.env, **({"flag": v.key.flag} if v.key.flag else {})}
                               for v in values}})
        return
    from rich.markup import escape
    from rich.table import Table

    state = "" if loaded.exists else "（不存在 / not present）"
    console.print(f"配置文件 / configuration file: {escape(str(loaded.path))} {state} (chosen by {loaded.chosen_by})")
    table = Table(box=None, pad_edge=False)
    table.add_column("key", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source 来源", no_wrap=True)
    table.add_column("env", no_wrap=True)
    for v in values:
        shown = config_file.masked(v.key, v.value)
        table.add_row(v.key.name, escape(shown) if shown is not None else "[dim]—[/]",
                      f"{v.source} {SOURCE_ZH[v.source]}", v.key.env)
    console.print(table)


@config_group.command("template")
def template() -> None:
    """Print a commented fenghuo.toml naming every key / 输出带注释的配置模板。"""
    click.echo(config_file.template(), nl=False)


SHELL_HELP = {
    "bash": 'eval "$(fenghuo completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(fenghuo completion zsh)"    # in ~/.zshrc',
    "fish": "fenghuo completion fish > ~/.config/fish/completions/fenghuo.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(sorted(SHELL_HELP)))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script / 输出命令补全脚本。

    \b
    bash:  eval "$(fenghuo completion bash)"   # in ~/.bashrc
    zsh:   eval "$(fenghuo completion zsh)"    # in ~/.zshrc
    fish:  fenghuo completion fish > ~/.config/fish/completions/fenghuo.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    # Named for the installed command (``fenghuo``), whatever name this process was started by.
    click.echo(cls(ctx.find_root().command, {}, "fenghuo", "_FENGHUO_COMPLETE").source())


def register(root: click.Group) -> None:
    root.add_command(config_group)
    root.add_command(completion)
