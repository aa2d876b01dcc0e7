"""``fenghuo.toml``: the one configuration file, its keys, and where each effective value came from.

Every key is the name of one environment variable without its ``FENGHUO_`` prefix, in lower
case (``server`` is ``FENGHUO_SERVER``), so the file is a lasting way to set what the
environment sets for one shell, and nothing else reads configuration. Precedence, highest
first:

1. a command-line flag (``--server``, ``--token``, ``--db``, or a command's own flag such as
   ``gateway --control``);
2. the environment variable;
3. the file: ``--config PATH``, else ``FENGHUO_CONFIG``, else ``fenghuo.toml`` in the user
   configuration directory (platformdirs: ``$XDG_CONFIG_HOME/fenghuo`` on Linux);
4. the built-in default.

The CLI's root reads the file once per invocation (:func:`load`) and hands each key the file
sets, and the environment does not, to the process environment for that invocation
(:func:`export`), so every part that reads its ``FENGHUO_*`` variable sees it, child processes
too; the environment is restored when the command ends. A problem in the file is one
:class:`ConfigError` naming the file, the key and what is wrong. Relative paths in the file are
relative to the file.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Invalid

FILE_NAME = "fenghuo.toml"
ENV_CONFIG = "FENGHUO_CONFIG"


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # text | secret | path | url-or-path | int | number | duration | durations
    en: str
    zh: str
    flag: str | None = None  # the root flag that overrides it
    default: str = ""  # what applies when nothing sets it, in words (see default_of)

    @property
    def env(self) -> str:
        return "FENGHUO_" + self.name.upper()


KEYS: tuple[Key, ...] = (
    Key("server", "text", "control plane URL every command talks to", "命令连接的控制面地址", "--server",
        "none: the local database"),
    Key("token", "secret", "bearer token for the server", "访问令牌", "--token", "none"),
    Key("db", "url-or-path", "local database: SQLite path or postgresql:// URL", "本地数据库", "--db",
        "fenghuo.db in the data directory"),
    Key("home", "path", "data directory: database, signing keys, trained models, spool", "数据目录", None,
        "the user data directory"),
    Key("data", "path", "shared public data sets (test banks, lexicon, recordings)", "共享公开数据", None,
        "../shared/data beside the checkout, if present"),
    Key("bus", "text", "nats:// URL(s): events on JetStream, switch in KV", "NATS 地址（扩展部署）", None,
        "none: embedded"),
    Key("control", "text", "control plane URL the gateway follows (gateway --control)", "网关跟随的控制面地址", None,
        "none: the local database"),
    Key("upstream_key", "secret", "API key the gateway sends upstream (gateway --upstream-key)", "上游 API 密钥", None,
        "none: the caller's key is forwarded"),
    Key("checks_config", "path", "content-check pipeline YAML", "内容检查流水线配置", None, "the shipped defaults"),
    Key("alerts", "path", "alerting configuration YAML (rules, channels)", "预警配置", None, "the shipped packs"),
    Key("plans", "path", "directory of your emergency plans", "应急预案目录", None, "the shipped plans"),
    Key("profiles", "path", "directory of your reporting-deadline profiles", "报告时限配置目录", None,
        "the shipped profiles"),
    Key("grading_dir", "path", "directory of your grading tables", "分级表目录", None, "the shipped tables"),
    Key("ledger_key", "path", "ledger checkpoint signing key (PEM)", "账本签名私钥", None,
        "ledger-signing-key.pem in the data directory"),
    Key("label_key", "path", "AIGC label signing key (PEM)", "内容标识签名私钥", None,
        "label-signing-key.pem in the data directory"),
    Key("windows", "durations", "monitoring windows, e.g. \"1m,5m,1h\"", "监测窗口", None, "1m,5m,1h"),
    Key("max_events", "int", "most events in one ingest batch", "每批事件上限", None, "5000"),
    Key("event_max_age", "duration", "oldest event accepted, e.g. \"15m\"", "可接收事件的最大时长", None, "10m"),
    Key("max_body_bytes", "int", "largest request body the server accepts", "请求体上限（字节）", None, "1048576"),
    Key("heartbeat_seconds", "number", "switch stream heartbeat", "开关流心跳（秒）", None, "1"),
    Key("poll_seconds", "number", "how often the server looks for switch changes made elsewhere",
        "外部开关变更轮询间隔（秒）", None, "0.25"),
    Key("checkpoint_seconds", "number", "how often the server signs a ledger checkpoint", "账本检查点间隔（秒）", None,
        "300"),
    Key("auth_failures_per_minute", "int", "wrong tokens one client address may send per minute before 429 (0: no limit)",
        "每个客户端地址每分钟允许的认证失败次数", None, "20"),
    Key("response_tick", "number", "how often the plan executor and the recovery ramp run", "预案执行与灰度推进间隔（秒）",
        None, "1"),
    Key("lease_seconds", "number", "leader lease (replicas)", "主副本租期（秒）", None, "5"),
    Key("retention_days", "int", "days records are kept before they may be pruned (at least 183: CN-PO-20, EU-06)",
        "留存天数（不少于 183 天）", None, "183"),
    Key("reconcile_seconds", "number", "KV reconcile interval (replicas)", "KV 对账间隔（秒）", None, "30"),
)
BY_NAME = {k.name: k for k in KEYS}


class ConfigError(Invalid):
    """A problem in the configuration file: which file, which key, what is wrong."""

    code = "config_invalid"
    exit_code = 2
    label = ("配置错误", "configuration error")

    def __init__(self, path: Path | str, key: str | None, zh: str, en: str) -> None:
        where = f"{path}" + (f": {key}" if key else "")
        super().__init__(f"配置文件 {where}：{zh}", f"configuration file {where}: {en}", file=str(path), key=key)


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("fenghuo")) / FILE_NAME


def choose_path(flag: str | None, environ: Mapping[str, str]) -> tuple[Path, str]:
    """The file to read and what chose it: ``--config``, ``FENGHUO_CONFIG`` or ``default``."""
    if flag:
        return Path(flag).expanduser().absolute(), "--config"
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser().absolute(), ENV_CONFIG
    return default_path(), "default"


def _check(path: Path, key: Key, value: Any) -> str:
    """The value as its environment variable would hold it, or ConfigError."""

    def bad(zh: str, en: str) -> ConfigError:
        return ConfigError(path, key.name, zh, en)

    if isinstance(value, dict):
        raise bad("不能是表，应为单个值", "a table is not allowed here: every key is a single value")
    if key.kind == "durations" and isinstance(value, list):
        value = ",".join(str(v) for v in value)
    if key.kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (key.kind == "int" and not isinstance(value, int)):
            want = ("整数", "an integer") if key.kind == "int" else ("数字", "a number")
            raise bad(f"应为{want[0]}，实为 {value!r}", f"must be {want[1]}, not {value!r}")
        if value <= 0:
            raise bad(f"应大于 0，实为 {value!r}", f"must be greater than 0, not {value!r}")
        return str(value)
    if not isinstance(value, str):
        raise bad(f"应为字符串，实为 {type(value).__name__}", f"must be a string, not {type(value).__name__} ({value!r})")
    if not value.strip():
        raise bad("不能为空", "must not be empty")
    try:
        if key.kind == "duration":
            parse_duration(value)
        elif key.kind == "durations":
            for part in value.split(","):
                if part.strip():
                    parse_duration(part.strip())
    except ValueError as exc:
        raise bad(f"不是时长：{exc}", f"not a duration: {exc}") from None
    if key.kind == "path" or (key.kind == "url-or-path" and "://" not in value):
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (path.parent / p).resolve())
    return value


def _unknown(path: Path, name: str) -> ConfigError:
    guess = name.lower().removeprefix("fenghuo_")
    if guess in BY_NAME and guess != name:
        hint = f" (did you mean {guess!r}?)"
    else:
        close = difflib.get_close_matches(guess, BY_NAME, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(path, name, f"未知的键{hint}（所有键见 fenghuo config template）",
                       f"unknown key{hint}; known keys: {', '.join(BY_NAME)}")


def read(path: Path) -> dict[str, str]:
    """The file's values, checked and as strings (the form of their environment variables)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, None, f"无法读取：{exc.strerror or exc}", f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"不是 UTF-8 文本（第 {exc.start} 字节）",
                          f"is not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"不是有效的 TOML：{exc}", f"is not valid TOML: {exc}") from None
    out: dict[str, str] = {}
    for name, value in data.items():
        key = BY_NAME.get(name)
        if key is None:
            raise _unknown(path, name)
        out[name] = _check(path, key, value)
    return out


@dataclass(frozen=True)
class Value:
    key: Key
    value: str | None
    source: str  # flag | env | file | default


@dataclass(frozen=True)
class Loaded:
    """The file chosen, what it set, and what the environment held before the CLI touched it."""

    path: Path
    chosen_by: str  # --config | FENGHUO_CONFIG | default
    exists: bool
    values: dict[str, str]
    environ: dict[str, str]  # the FENGHUO_* variables as the process started


def load(flag: str | None, environ: Mapping[str, str] | None = None) -> Loaded:
    """Read the configuration file (a missing default file is no file; a named one must exist)."""
    env = os.environ if environ is None else environ
    path, chosen_by = choose_path(flag, env)
    exists = path.is_file()
    if path.exists() and not exists:
        raise ConfigError(path, None, "不是文件", "is not a file")
    if not exists and chosen_by != "default":
        raise ConfigError(path, None, f"不存在（由 {chosen_by} 指定）", f"does not exist (named by {chosen_by})")
    values = read(path) if exists else {}
    return Loaded(path, chosen_by, exists, values, {k: v for k, v in env.items() if k.startswith("FENGHUO_")})


def export(loaded: Loaded, environ: MutableMapping[str, str] | None = None) -> Callable[[], None]:
    """Put the file's values into the environment where it has none; returns the undo."""
    env = os.environ if environ is None else environ
    added = [BY_NAME[name].env for name in loaded.values if BY_NAME[name].env not in env]
    for name, value in loaded.values.items():
        env.setdefault(BY_NAME[name].env, value)

    def undo() -> None:
        for var in added:
            env.pop(var, None)

    return undo


def default_of(key: Key) -> str | None:
    """The value in force when nothing sets a key, where it can be computed."""
    if key.name == "home":
        return str(Path(platformdirs.user_data_dir("fenghuo")))
    if key.name == "db":
        from fenghuo.platform.paths import data_dir

        return str(data_dir() / "fenghuo.db")
    if key.name == "data":
        from fenghuo.platform.paths import shared_data_dir

        found = shared_data_dir()
        return str(found) if found else None
    return None


def effective(loaded: Loaded, flags: Mapping[str, str | None] | None = None) -> list[Value]:
    """Every key's value in force and where it came from (flags: the root flags given)."""
    flags = flags or {}
    out = []
    for key in KEYS:
        if flags.get(key.name) is not None:
            out.append(Value(key, flags[key.name], "flag"))
        elif key.env in loaded.environ:
            out.append(Value(key, loaded.environ[key.env], "env"))
        elif key.name in loaded.values:
            out.append(Value(key, loaded.values[key.name], "file"))
        else:
            out.append(Value(key, default_of(key), "default"))
    return out


def masked(key: Key, value: str | None) -> str | None:
    """Secrets are shown by their first four characters and length only."""
    if value is None or key.kind != "secret":
        return value
    return f"{value[:4]}… ({len(value)} chars)"


def template() -> str:
    """A commented ``fenghuo.toml`` naming every key."""
    lines = [f"# {FILE_NAME}: fenghuo configuration / 烽火配置文件", "# Each key is an environment variable without "
             "FENGHUO_ (server = FENGHUO_SERVER); the environment and flags override the file.", ""]
    for k in KEYS:
        example = {"int": "1000", "number": "1"}.get(k.kind, '"…"')
        lines.append(f"# {k.zh} / {k.en} (default: {k.default})")
        lines.append(f"# {k.name} = {example}")
    return "\n".join(lines) + "\n"
