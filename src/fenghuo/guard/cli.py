"""``fenghuo gateway``: the OpenAI-compatible gateway in front of a model server."""

from __future__ import annotations

from pathlib import Path

import click


def build_gateway(service: str, upstream: str, *, backup: str | None = None, control: str | None = None,
                  token: str | None = None, db_url: str | None = None, **guard_kw):
    """Guard + gateway app (used by the CLI, the tests and the benchmark)."""
    from fenghuo.guard.core import Guard
    from fenghuo.guard.gateway import Gateway

    timeout = guard_kw.pop("timeout", 60.0)
    api_key = guard_kw.pop("api_key", None)
    stream_kw = {"holdback": guard_kw.pop("holdback", 32), "window": guard_kw.pop("window", 128),
                 "hold_whole": guard_kw.pop("hold_whole", False), "stream_usage": guard_kw.pop("stream_usage", True),
                 "model_upstreams": guard_kw.pop("model_upstreams", None)}
    bus = guard_kw.pop("bus", None)
    if bus:  # scale-out: switch from the NATS KV bucket, telemetry into JetStream (fenghuo.scale)
        from fenghuo.guard.nats import nats_guard

        guard = nats_guard(service, bus, control=control, token=token, kind="gateway", **guard_kw)
        return Gateway(guard, upstream, backup, timeout=timeout, api_key=api_key, **stream_kw)
    db = None
    if not control:
        from fenghuo.platform.db import open_database

        db = open_database(db_url)
    guard = Guard(service, control, token, db, kind="gateway", **guard_kw)
    return Gateway(guard, upstream, backup, timeout=timeout, api_key=api_key, **stream_kw)


def banner(gw, service: str, url: str, wait: float = 5.0) -> str:
    """The start line: the state and version the guard enforces once it has heard from the
    switch. Read right after construction it showed the fail-safe placeholder (``paused v0``
    for a service running at v6, issue 15); so wait for the first contact, and say so when it
    has not come."""
    from fenghuo import __version__

    connected = gw.guard.wait_connected(wait) if gw.guard.follower is not None else False
    eff = gw.guard.state()
    info = gw.guard.info
    head = f"fenghuo {__version__} gateway {gw.guard.instance}: service {service} "
    if connected:
        state = f"{eff.state} v{eff.version}" + (f" (rate {eff.rate}/s)" if eff.rate else "") + \
            (f" ({eff.percent}% canary)" if eff.state == "canary" else "")
    else:
        state = (f"未联系上开关，按失效安全执行 {eff.state} / no switch contact within {wait:g} s: enforcing the "
                 f"fail-{info.failsafe_mode} default ({eff.state}) until it comes")
    return (f"{head}{state} (fail-{info.failsafe_mode}, lease {info.lease_seconds:g} s, info from {gw.guard.info_source}) "
            f"→ {url}")


@click.command("gateway")
@click.option("--service", required=True, help="登记的服务 id / registered service id")
@click.option("--upstream", required=True, metavar="URL",
              help="主模型 OpenAI 兼容地址；仅主机时补 /v1，有路径则原样使用 / primary model's OpenAI-compatible base URL: "
                   "/v1 is added only to a bare host (http://host:8000); a URL with a path is used as given "
                   "(https://open.bigmodel.cn/api/paas/v4)")
@click.option("--backup", metavar="URL", help="备份模型地址（同上的 /v1 规则）/ backup model base URL, same /v1 rule (默认同主地址 / default: the primary's)")
@click.option("--backup-model", help="备份模型名 / backup model name (default: the registry's backup_model)")
@click.option("--control", envvar="FENGHUO_CONTROL", metavar="URL",
              help="控制面地址；不给则读本地数据库 / control plane URL; without it, the local database (--db)")
@click.option("--bus", envvar="FENGHUO_BUS", metavar="URL",
              help="nats://…：从 KV 读开关、事件写入 JetStream / switch from the NATS KV bucket, events to JetStream")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=int)
@click.option("--instance", help="实例 id / instance id (default: gateway-<host>-<random>)")
@click.option("--lease", type=float, help="租期（秒），默认取分级的 failsafe.after_seconds / lease seconds (default: the grade's)")
@click.option("--failsafe", type=click.Choice(["open", "closed"]), help="覆盖分级的失效安全 / override the grade's fail-safe")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path),
              help="启动引导状态文件（有联系时自动更新）/ bootstrap state file (rewritten on every change)")
@click.option("--spool", type=click.Path(file_okay=False, path_type=Path), help="遥测落盘目录 / telemetry spool directory")
@click.option("--checks", "checks_path", help="检查流水线 YAML，或 none / check pipeline YAML, or 'none'")
@click.option("--allow-degraded-checks", is_flag=True,
              help="配置的检查未能加载时仍然启动（逐条警告）/ start even when a configured check cannot load "
                   "(each is logged as a warning); without it the gateway refuses to start")
@click.option("--label-text", default=None, help="显式标识文字 / explicit label text")
@click.option("--label-position", type=click.Choice(["start", "end"]), default="end", show_default=True)
@click.option("--no-label", is_flag=True, help="不加显式标识（隐式元数据仍写入），须有 --label-waiver / no explicit label (metadata "
                                              "still written); needs --label-waiver")
@click.option("--label-waiver", metavar="ID", help="--no-label 所依据的免标识记录（fenghuo label waive，CN-LB-18）/ the recorded "
                                                   "label waiver --no-label serves under (fenghuo label waive; CN-LB-18)")
@click.option("--safe-answer", default=None, help="拦截时的安全回答 / answer given when a check blocks")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="上游超时（秒）/ upstream timeout")
@click.option("--stream-window", type=click.IntRange(min=16), default=128, show_default=True,
              help="流式输出：分类器在每次放行前检查的最近字符数 / streams: characters the classifier scores before each release")
@click.option("--hold-whole-answer", is_flag=True,
              help="流式输出：整段答案经全部检查（含 LLM 守卫）后才发送 / streams: send nothing until every check, an LLM "
                   "guard too, has judged the whole answer")
@click.option("--no-stream-usage", is_flag=True,
              help="不向上游请求流式用量块（上游拒绝 stream_options 时）/ do not ask the upstream for the stream usage "
                   "chunk (for upstreams that reject stream_options)")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="工作进程数（同一端口，各为一个实例）/ worker processes on the same port, each its own guard instance")
@click.option("--model-upstream", "model_upstreams", multiple=True, metavar="VERSION=URL",
              help="某模型版本的上游地址（获批版本才有流量，CN-TC-18）/ the upstream serving one model version (only the "
                   "approved version takes traffic; default: --upstream with the request's model set to it)")
@click.option("--upstream-key", envvar="FENGHUO_UPSTREAM_KEY", help="上游 API 密钥；不给则转发调用方的 / upstream API key")
@click.option("--http-server", type=click.Choice(["fenghuo", "uvicorn"]), default="fenghuo", show_default=True,
              help="HTTP 服务器：自带的精简服务器（每次调用 CPU 更少）或 uvicorn / the HTTP server: fenghuo's own lean one "
                   "(guard.server: less CPU per call) or uvicorn")
@click.pass_context
def gateway(ctx: click.Context, service: str, upstream: str, backup: str | None, backup_model: str | None, control: str | None,
            bus: str | None, host: str, port: int, instance: str | None, lease: float | None, failsafe: str | None, state_file: Path | None,
            spool: Path | None, checks_path: str | None, allow_degraded_checks: bool, label_text: str | None, label_position: str, no_label: bool, label_waiver: str | None,
            safe_answer: str | None, timeout: float, stream_window: int, hold_whole_answer: bool, no_stream_usage: bool,
            workers: int, model_upstreams: tuple[str, ...], upstream_key: str | None, http_server: str) -> None:
    """OpenAI 兼容网关：服从开关、检查输入输出、标识、上报。

    OpenAI-compatible gateway: obeys the switch, checks input and output, labels AI output,
    reports every call. Serves /v1/chat/completions, /v1/completions and /v1/responses (streaming
    and not), /v1/embeddings, /v1/models, and /metrics, /healthz, /readyz.
    """
    from fenghuo.guard.checking import load_default_checks
    from fenghuo.guard.core import SAFE_ANSWER
    from fenghuo.guard.labels import DEFAULT_TEXT, LabelConfig

    obj = ctx.obj or {}
    token = obj.get("token")
    if control and not token:
        raise click.UsageError("--control 需要 --token / --control needs --token (fenghuo token create --role system)")
    # Loaded here, before anything starts: a configured check that cannot load refuses the
    # start with one line per check (issue 12 item 1) unless --allow-degraded-checks.
    checks = None
    if checks_path != "none":
        try:
            checks = load_default_checks(checks_path or None, allow_degraded=allow_degraded_checks)
        except ValueError as exc:  # DegradedChecks, ConfigError
            raise click.ClickException(str(exc)) from None
        for line in getattr(checks, "notes", ()):
            click.echo(f"检查降级 / checks degraded: {line}", err=True)
    by_version = dict(m.split("=", 1) for m in model_upstreams if "=" in m)
    if len(by_version) != len(model_upstreams):
        raise click.BadParameter("写成 VERSION=URL / give VERSION=URL", param_hint="--model-upstream")
    if no_label:  # CN-LB-18: unlabelled content only under a recorded waiver of this service
        from fenghuo.guard.label_waivers import check_for_guard
        from fenghuo.platform.db import open_database

        try:
            check_for_guard(service, label_waiver, control=control, token=token, db=None if control else open_database(obj.get("db")))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    labels = LabelConfig(enabled=not no_label, text=label_text or DEFAULT_TEXT, position=label_position,
                         waiver=label_waiver if no_label else None)

    def make(worker: int | None):  # the gateway of one process (a worker: its own instance and spool)
        try:
            gw = build_gateway(service, upstream, backup=backup, control=control, token=token, db_url=obj.get("db"),
                               instance=f"{instance}-w{worker}" if instance and worker else instance, lease=lease,
                               failsafe=failsafe, state_file=state_file,
                               spool_dir=spool / f"w{worker}" if spool and worker else spool,
                               checks=checks, backup_model=backup_model, safe_answer=safe_answer or SAFE_ANSWER,
                               timeout=timeout, api_key=upstream_key, labels=labels, bus=bus, window=stream_window,
                               hold_whole=hold_whole_answer, stream_usage=not no_stream_usage,
                               model_upstreams=by_version or None)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if labels.producer == "fenghuo" and gw.guard.info.provider:
            gw.guard.labeller.config = LabelConfig(labels.enabled, labels.text, labels.position, gw.guard.info.provider,
                                                   labels.waiver)
        click.echo(banner(gw, service, f"http://{host}:{port}/v1"), err=True)
        return gw

    def serve(gw, sock=None) -> None:
        gw.settle = True  # this process is the gateway's own: settle it once loaded (guard.runtime)
        try:
            if http_server == "fenghuo":
                from fenghuo.guard.server import run

                try:
                    run(gw, host, port, sock=sock)
                except OSError as exc:  # the port is taken, or the address is not this host's
                    raise click.ClickException(f"无法监听 {host}:{port} / cannot listen on {host}:{port}: {exc}") from None
            else:
                import uvicorn

                config = uvicorn.Config(gw, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
                                        proxy_headers=False)
                uvicorn.Server(config).run(sockets=[sock] if sock else None)
        finally:
            gw.guard.close()

    if not control and not bus:
        click.echo("注意：未给 --control，调用事件不上报监测 / note: without --control (or --bus) call events are not "
                   "reported to the monitor; the switch is still followed from the local database", err=True)
    if workers == 1:
        serve(make(None))
        return
    from fenghuo.guard.workers import serve_workers

    try:
        code = serve_workers(workers, host, port, lambda k, sock: serve(make(k), sock))
    except OSError as exc:
        raise click.ClickException(f"无法监听 {host}:{port} / cannot listen on {host}:{port}: {exc}") from None
    ctx.exit(code)


def register(root: click.Group) -> None:
    root.add_command(gateway)
