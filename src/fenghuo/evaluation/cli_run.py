"""``fenghuo eval run / judge / review / report``: commands that produce or read runs."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from fenghuo.platform.paths import safe_name

console = Console()
err = Console(stderr=True)
EXIT_FAIL, EXIT_INCOMPLETE = 1, 3


def _print_verdict(report: dict, store) -> None:
    v = report["verdict"]
    colour = "green" if report["passed"] else "red"
    console.print(f"[{colour}]结论 / verdict: {'通过 / PASS' if report['passed'] else '未通过 / FAIL'}[/] · run {report['run_id']}")
    for m in v["metrics"].values():
        rate = "—" if m["rate"] is None else f"{m['rate']:.1%}"
        ci = "" if not m["ci95"] else f" (95% CI {m['ci95'][0]:.1%}–{m['ci95'][1]:.1%})"
        console.print(f"  {m['name']}: {rate}{ci} n={m['n']} → {m['status']}")
    c = report["counts"]
    console.print(f"  排除 / excluded {len(v['excluded'])} · 错误 / errors {c['errors']} · 待复核 / pending review {c['pending_reviews']}")
    console.print(f"  报告 / reports: {store.path}/report.html, report.md, report.json, self-assessment.docx")


async def _execute_with_progress(store, judges, quiet: bool, **kw) -> dict:
    from fenghuo.evaluation.runner import execute

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on the main thread / platform
            pass
    total = len(store.manifest["order"])
    done = len(store.done_ids())
    columns = [TextColumn("评估 / evaluating"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:.1f} q/s"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=err, disable=quiet, transient=False) as progress:
        task = progress.add_task("run", total=total, completed=done, rate=0.0)
        started, count = loop.time(), [0]

        def on_answer(_record) -> None:
            count[0] += 1
            progress.update(task, advance=1, rate=count[0] / max(1e-6, loop.time() - started))

        return await execute(store, judges, stop=stop, on_answer=on_answer, **kw)


@click.command("run")
@click.option("--bank", "banks", multiple=True, type=click.Path(exists=True, path_type=Path), help="题库 / bank file or folder (repeatable)")
@click.option("--endpoint", help="OpenAI 兼容端点 / OpenAI-compatible endpoint, e.g. http://127.0.0.1:8900/v1")
@click.option("--model", help="模型名 / model name sent in each request")
@click.option("--seed", default=0, show_default=True, type=int, help="抽样种子 / draw seed")
@click.option("--generated", type=int, help="生成内容每项抽样数（人工、关键词、分类模型各一份）/ size of each of the three generated-content draws "
              "(manual, keyword, classifier; default: profile min_n)")
@click.option("--refuse", type=int, help="应拒答抽样数 / should-refuse draw size")
@click.option("--answer", type=int, help="非拒答抽样数 / should-answer draw size")
@click.option("--profile", default=None, help="阈值配置 / threshold profile name or YAML file (default gbt45654)")
@click.option("--format", "fmt", default=None, help="强制题库格式 / force the bank format")
@click.option("--encoding", default=None, help="题库编码 / bank encoding")
@click.option("--concurrency", default=8, show_default=True, type=int)
@click.option("--rate", type=float, default=None, help="每秒最多请求 / max requests per second")
@click.option("--timeout", default=60.0, show_default=True, type=float, help="单次请求超时秒 / per-request timeout (s)")
@click.option("--retries", default=3, show_default=True, type=int)
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), help="带标签的录制回答 / labelled recorded answers (JADE v3 triples) used as a safety judge")
@click.option("--no-checks", is_flag=True, help="不使用内容检查流水线 / do not use the content-check pipeline")
@click.option("--run-id", default=None, help="指定运行 id / choose the run id")
@click.option("--resume", "resume_id", default=None, help="继续中断的运行 / continue an interrupted run")
@click.option("--retry-errors", is_flag=True, help="继续时重问出错的题 / on resume, ask errored questions again")
@click.option("--quiet", is_flag=True, help="不显示进度条 / no progress bar")
def run_cmd(banks, endpoint, model, seed, generated, refuse, answer, profile, fmt, encoding, concurrency, rate,
            timeout, retries, reference, no_checks, run_id, resume_id, retry_errors, quiet) -> None:
    """对端点运行安全评估 / Run a safety evaluation against a model endpoint.

    Exit status: 0 verdict passes, 1 verdict fails, 3 interrupted (resume with --resume RUN_ID).
    """
    from fenghuo.evaluation.report import write_reports
    from fenghuo.evaluation.runner import RunConfig, judges_for, prepare
    from fenghuo.evaluation.store import RunStore

    if run_id:
        safe_name(run_id, "运行 id", "run id")  # before any work: it becomes a folder name (issue 14)
    if resume_id:
        store = RunStore.open(resume_id)
    else:
        if not banks or not endpoint or not model:
            raise click.UsageError("需要 --bank、--endpoint 和 --model / --bank, --endpoint and --model are required (or --resume RUN_ID)")
        sizes = None
        if any(x is not None for x in (generated, refuse, answer)):
            from fenghuo.evaluation.profile import load_profile

            try:
                defaults = {k: r.min_n for k, r in load_profile(profile).rules.items()}
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            sizes = {"generated": generated if generated is not None else defaults["generated_manual"],
                     "refuse": refuse if refuse is not None else defaults["refuse"],
                     "answer": answer if answer is not None else defaults["answer"]}
        config = RunConfig([str(b) for b in banks], endpoint, model, seed, sizes, profile, fmt, encoding,
                           concurrency, rate, timeout, retries, reference=reference, use_checks=not no_checks)
        try:
            store = prepare(config, run_id)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        problems = store.problems()
        if problems:
            err.print(f"[yellow]题库问题 / bank problems: {len(problems)} (listed in the report); first: {problems[0]['where']}: {problems[0]['message']}[/]")
    judges, notes = judges_for(store.manifest)
    store.update_manifest(judges={"names": judges.names, "notes": notes})
    for note in notes:
        err.print(f"[yellow]⚠ {note}[/]")
    console.print(f"运行 / run {store.run_id} → {store.path}")
    counts = asyncio.run(_execute_with_progress(store, judges, quiet, endpoint=endpoint if resume_id else None,
                                                concurrency=concurrency if resume_id else None, retry_errors=retry_errors))
    report = write_reports(store)
    _print_verdict(report, store)
    if counts["interrupted"] or not report["complete"]:
        err.print(f"[yellow]运行未完成 / run incomplete: continue with `fenghuo eval run --resume {store.run_id}`[/]")
        raise SystemExit(EXIT_INCOMPLETE)
    raise SystemExit(0 if report["passed"] else EXIT_FAIL)


@click.command("report")
@click.argument("run_id")
def report_cmd(run_id) -> None:
    """重新生成报告 / Rebuild a run's reports (after review or a resumed run)."""
    from fenghuo.evaluation.report import write_reports
    from fenghuo.evaluation.store import RunStore

    store = RunStore.open(run_id)
    report = write_reports(store)
    _print_verdict(report, store)
    raise SystemExit(0 if report["passed"] else EXIT_FAIL)


@click.command("judge")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), help="带标签的录制回答 / labelled recorded answers")
@click.option("--no-checks", is_flag=True, help="不使用内容检查流水线 / without the content-check pipeline")
@click.option("--profile", default=None, help="阈值配置 / threshold profile")
@click.option("--encoding", default=None)
@click.option("--run-id", default=None)
def judge_cmd(file, reference, no_checks, profile, encoding, run_id) -> None:
    """评判收集的问答对 / Judge collected prompt/answer pairs (CSV or JSONL) without calling a model."""
    from fenghuo.evaluation.collected import judge_file
    from fenghuo.evaluation.judges import default_judges
    from fenghuo.evaluation.report import write_reports
    from fenghuo.replay.loader import load_answers

    judges, notes = default_judges(load_answers(reference) if reference else None, not no_checks)
    for note in notes:
        err.print(f"[yellow]⚠ {note}[/]")
    store = judge_file(file, judges, notes, profile, encoding, run_id)
    report = write_reports(store)
    _print_verdict(report, store)
    raise SystemExit(0 if report["passed"] else EXIT_FAIL)


def register(group: click.Group) -> None:
    """Mount run, report, judge and review on the ``eval`` group."""
    from fenghuo.evaluation.review import review_cmd

    for cmd in (run_cmd, report_cmd, judge_cmd, review_cmd):
        group.add_command(cmd)
