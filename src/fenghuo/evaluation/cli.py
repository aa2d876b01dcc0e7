"""``fenghuo eval …``: bank statistics, runs, judging collected answers, review, reports."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from fenghuo.evaluation import cli_run

console = Console()
err = Console(stderr=True)

BANK_OPTS = [
    click.option("--format", "fmt", default=None, help="强制格式 / force a format: fenghuo, xsafety, jade, jade_v3, cvalues, flames, xstest"),
    click.option("--encoding", default=None, help="文件编码 / file encoding (default: UTF-8, then GB18030)"),
]


def _bank_options(func):
    for opt in reversed(BANK_OPTS):
        func = opt(func)
    return func


def print_problems(problems, limit: int = 20) -> None:
    for problem in problems[:limit]:
        err.print(f"[yellow]问题 / problem[/] {problem}")
    if len(problems) > limit:
        err.print(f"[yellow]… 另有 / and {len(problems) - limit} more (see the report)[/]")


@click.group("eval")
def eval_group() -> None:
    """安全评估 / Safety evaluation: test banks, runs, judges, verdicts and reports (TC260-003 §8–9)."""


@eval_group.group("bank")
def bank_group() -> None:
    """测试题库 / Test banks: coverage, conversion, category mapping."""


@bank_group.command("stats")
@click.argument("banks", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_bank_options
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def bank_stats(banks, fmt, encoding, as_json) -> None:
    """题库覆盖与最低要求对比 / Coverage against the TC260-003 minimums, listing exactly what is missing.

    Exits 1 when any minimum is not met (31 risks, 17 should-refuse risks, 13 should-answer
    topics) or the newest bank file is older than a month.
    """
    from fenghuo.evaluation.loaders import load_banks
    from fenghuo.evaluation.minimums import CODES, CORE_CODES, label, topic_label
    from fenghuo.evaluation.stats import coverage
    from fenghuo.platform import freshness

    bank = load_banks(banks, fmt, encoding)
    cov = coverage(bank.items)
    age = freshness.age_days(freshness.newest(banks))  # CN-TC-21: updated at least monthly
    fresh = age is not None and age <= freshness.BANK_MAX_DAYS
    if as_json:
        data = cov.to_dict() | {"problems": [p.to_dict() for p in bank.problems],
                                "updated_days_ago": age, "max_age_days": freshness.BANK_MAX_DAYS, "fresh": fresh}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_problems(bank.problems)
        table = Table(title=f"题库覆盖 / bank coverage: {cov.total} questions")
        for col in ("风险 / risk", "生成内容 / generated", "应拒答 / should-refuse", "要求 / need"):
            table.add_column(col)
        for code in CODES:
            need = "50 / 20" if code in CORE_CODES else "20 / -"
            table.add_row(label(code), str(cov.by_risk[code]), str(cov.refuse_by_risk.get(code, "-")), need)
        table.add_row("未映射 / unmapped", str(cov.unmapped), "", "")
        console.print(table)
        topics = Table(title="非拒答题库主题 / should-answer bank topics (CN-TC-23)")
        for col in ("主题 / topic", "题数 / questions", "要求 / need"):
            topics.add_column(col)
        for t, n in cov.answer_by_topic.items():
            topics.add_row(topic_label(t), str(n), "20")
        console.print(topics)
        console.print(f"最近更新 / last updated {age} 天前 days ago (要求 / need ≤{freshness.BANK_MAX_DAYS})"
                      + ("" if fresh else " [red]过期 / stale[/]"))
        console.print(
            f"应拒答 / should-refuse {cov.refuse_total} · 非拒答 / should-answer {cov.answer_total} · "
            f"需安全回答 / safe-answer {cov.safe_answer_total} · 来源 / sources {cov.by_source}"
        )
        if cov.complete:
            console.print("[green]满足全部最低要求 / all minimums met[/]")
        else:
            console.print(f"[red]缺口 / missing ({len(cov.shortfalls)}):[/]")
            for s in cov.shortfalls:
                console.print(f"  - {s}")
    raise SystemExit(0 if cov.complete and fresh else 1)


@bank_group.command("convert")
@click.argument("banks", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出 JSONL / output bank")
@_bank_options
def bank_convert(banks, out, fmt, encoding) -> None:
    """转换为 fenghuo 题库格式 / Convert public banks into one fenghuo JSONL bank."""
    from fenghuo.evaluation.bank import write_bank
    from fenghuo.evaluation.loaders import load_banks

    bank = load_banks(banks, fmt, encoding)
    print_problems(bank.problems)
    n = write_bank(bank.items, out)
    console.print(f"写入 / wrote {n} questions to {out} ({len(bank.problems)} problems)")


@bank_group.command("mapping")
def bank_mapping() -> None:
    """类别到风险代码的映射 / Show how each public bank's categories map onto risk codes."""
    from fenghuo.checks.bank_risks import all_tables
    from fenghuo.evaluation.minimums import label

    for source, table in all_tables().items():
        t = Table(title=source)
        for col in ("类别 / category", "风险 / risk", "期望 / expectation", "映射 / match"):
            t.add_column(col)
        for category, (code, expectation, quality) in table.items():
            t.add_row(category, label(code), expectation, quality)
        console.print(t)


def register(root: click.Group) -> None:
    cli_run.register(eval_group)
    root.add_command(eval_group)
