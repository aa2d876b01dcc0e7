"""`fenghuo checks coverage` and `fenghuo checks evaluate`."""

from __future__ import annotations

import json

import click

from fenghuo.checks.cli_scan import InputError, load_for_scan, load_judge_for


@click.group("checks")
def checks_group() -> None:
    """The configured content checks: coverage and measurement / 内容检查：覆盖与评测。"""


@checks_group.command("coverage")
@click.option("--json", "as_json", is_flag=True)
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML (default: $FENGHUO_CHECKS_CONFIG or packaged) / 管线配置")
@click.option("--with-judge/--without-judge", default=True, show_default=True,
              help="Count the answer judge (guard output, scan --pairs) when it loads / 计入回答评判器")
def coverage_cmd(as_json: bool, config: str | None, with_judge: bool) -> None:
    """Which of the 31 TC260-003 appendix A risks the configured checks can detect (CN-TC-24).

    Derived from the checks themselves: the categories each can report, mapped to risk codes
    by the pipeline's policy. / 由各检查可报告的类别经策略映射得出，而非手写表。
    """
    from fenghuo.checks.coverage import coverage

    pipe = load_for_scan(config, ())
    extra = []
    if with_judge:
        try:
            from fenghuo.checks.pairs import load_judge

            extra.append(load_judge())
        except ValueError as exc:
            click.echo(f"note 提示: {exc}", err=True)
    cov = coverage(pipe, extra)
    if as_json:
        click.echo(json.dumps(cov.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(cov.lines()))


@checks_group.command("evaluate")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Labelled CSV or JSONL (COLD, text+label(s), JADE, JADE v3; see docs/checks.md) / 标注数据")
@click.option("--pairs", is_flag=True, help="Rows are prompt + answer: judge answers in context / 按问答对评测")
@click.option("--max-fpr", type=click.FloatRange(0.0, 1.0), default=0.03, show_default=True,
              help="Target false-positive rate on harmless rows for the threshold / 校准目标误报率")
@click.option("--on", type=click.Choice(["flag", "block"]), default="flag", show_default=True,
              help="Which verdict counts as detected / 计为检出的判定")
@click.option("--label", "default_label", type=click.Choice(["harmful", "harmless"]),
              help="Label for every row of an unlabelled file (one text a line, CValues prompts) / 无标注文件的统一标签")
@click.option("--encoding", help="File encoding (default: UTF-8, then GB18030) / 文件编码")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N rows / 仅前 N 行")
@click.option("--json", "as_json", is_flag=True)
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML / 管线配置")
def evaluate_cmd(data_path: str, pairs: bool, max_fpr: float, on: str, default_label: str | None, encoding: str | None,
                 limit: int | None, as_json: bool, config: str | None) -> None:
    """Precision, recall, F1, confusion matrix and harmless FPR of the configured checks on a
    labelled file, and a score threshold calibrated to --max-fpr / 在标注数据上评测检查。"""
    from fenghuo.checks.evaluate import judge_rows, report
    from fenghuo.checks.labelled import read_labelled

    try:
        data = read_labelled(data_path, pairs, default_label, encoding)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if limit:
        data.rows = data.rows[:limit]
    if pairs and not any(r.prompt is not None for r in data.rows):
        raise InputError(f"{data_path}: --pairs but no row has a prompt / 无问题字段")
    pipe = load_for_scan(config, ())
    judge = load_judge_for(pairs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    # A bar on stderr for long runs (a JADE v3 file with the judge takes minutes on a busy box);
    # rich draws nothing when stderr is not a terminal.
    with Progress(TextColumn("evaluate 评测"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True, disable=len(data.rows) < 200) as bar:
        task = bar.add_task("rows", total=len(data.rows))
        outcomes = judge_rows(pipe, data, judge, lambda: bar.advance(task))
    rep = report(data, outcomes, on, max_fpr)
    if as_json:
        click.echo(json.dumps(rep.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(rep.lines()))
