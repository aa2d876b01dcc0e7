"""``fenghuo replay-upstream``: serve recorded answers as an OpenAI-compatible model."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from fenghuo.platform.paths import shared_data_dir

DEFAULT_RECORDING = "traffic/jade_v3/jade_alignment_medium_zh.csv"


def default_answers() -> Path | None:
    data = shared_data_dir()
    path = data / DEFAULT_RECORDING if data else None
    return path if path and path.exists() else None


@click.command("replay-upstream")
@click.option("--answers", "answers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="录制文件 / recording: CSV or JSONL of question, unsafe answer, safe answer (default: shared JADE v3).")
@click.option("--encoding", default=None, help="文件编码 / file encoding (default: UTF-8, then GB18030).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
@click.option("--mode", type=click.Choice(["safe", "unsafe"]), default="safe", show_default=True,
              help="起始回答 / which recorded answer to start with.")
@click.option("--switch-at", type=int, default=None,
              help="第 N 次调用后切换 / switch to the other answers after N calls.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True,
              help="模拟模型延迟 / added model latency per call.")
@click.option("--model", "model_name", default="replay", show_default=True, help="/v1/models 中的名称 / model id.")
@click.option("--models", "only_models", default=None, metavar="A,B",
              help="只服务这些模型，其余答 404 model_not_found / serve only these model ids; others get OpenAI's 404.")
def replay_upstream(answers_path, encoding, host, port, mode, switch_at, latency_ms, model_name, only_models) -> None:
    """回放录制的真实模型回答 / Serve recorded real model answers as an OpenAI-compatible endpoint.

    POST /admin/mode {"mode": "unsafe"} flips the answers at any time; GET /admin/state and
    /admin/asked show the call count and how often each recording was asked.
    """
    import uvicorn

    from fenghuo.replay.app import Schedule, create_app
    from fenghuo.replay.loader import load_answers

    console = Console(stderr=True)
    path = answers_path or default_answers()
    if path is None:
        raise click.UsageError("需要 --answers / --answers FILE is required (no shared JADE v3 recording found)")
    answers = load_answers(path, encoding)
    for problem in answers.problems:
        console.print(f"[yellow]跳过 / skipped[/] {problem}")
    if not answers.records:
        raise click.ClickException(f"{path}: 没有可用的录制 / no usable recordings")
    console.print(
        f"回放 / replaying {len(answers.records)} recordings from {path} ({answers.encoding}) "
        f"on http://{host}:{port}/v1 · mode={mode} switch_at={switch_at}"
    )
    models = [m.strip() for m in only_models.split(",") if m.strip()] if only_models else None
    app = create_app(answers, Schedule(mode=mode, switch_at=switch_at), latency_ms=latency_ms, model_name=model_name, models=models)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(root: click.Group) -> None:
    root.add_command(replay_upstream)
