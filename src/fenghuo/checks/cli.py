"""`fenghuo scan` (in ``cli_scan``), `fenghuo checks …` (in ``cli_checks``), `fenghuo lexicon stats`,
`fenghuo lexicon audit`, `fenghuo classifier train`."""

from __future__ import annotations

import json

import click

from fenghuo.checks.classifier.cli import classifier_group
from fenghuo.checks.cli_checks import checks_group
from fenghuo.checks.cli_scan import InputError, scan_cmd
from fenghuo.platform import freshness


@click.group("lexicon")
def lexicon_group() -> None:
    """Keyword lexicons / 关键词词库。"""


@lexicon_group.command("stats")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML whose category→risk map to use / 使用其类别映射")
def lexicon_stats_cmd(files: tuple[str, ...], as_json: bool, config: str | None) -> None:
    """Coverage of lexicon FILEs against TC260-003 §8.1 (CN-TC-20) / 词库覆盖率统计。

    Exits 1 when any minimum is not met or the newest file is older than a week."""
    from fenghuo.checks.lexicon_file import LexiconError, format_stats, lexicon_stats, read_lexicon
    from fenghuo.checks.normalize import default_normaliser
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    try:
        policy = load_pipeline(config).policy if config else __import__("fenghuo.checks.policy", fromlist=["Policy"]).Policy()
        entries = []
        for f in files:
            entries += read_lexicon(f, None, set(policy.rules))
    except (LexiconError, ConfigError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    stats = lexicon_stats(entries, policy.risk_map(), default_normaliser().normalise_text)
    age = freshness.age_days(freshness.newest(files))  # CN-TC-20: updated at least weekly
    stats.rows.append((f"updated ≤{freshness.LEXICON_MAX_DAYS} d ago / 更新天数", age, freshness.LEXICON_MAX_DAYS,
                       age is not None and age <= freshness.LEXICON_MAX_DAYS))
    click.echo(json.dumps(stats.to_dict(), ensure_ascii=False, indent=2) if as_json else format_stats(stats))
    if not stats.ok:  # as `fenghuo eval bank stats`: a library below the minimums fails the command
        raise SystemExit(1)


@lexicon_group.command("audit")
@click.argument("words", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--benign", "benign", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Harmless texts: one a line, or CSV/JSONL with a text column (repeatable) / 无害文本文件")
@click.option("--column", default=None, help="Text column of CSV/JSONL files (default: text, prompt, 问题 …) / 文本列名")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N words and tags that fire most / 仅显示前 N 项")
@click.option("--no-evasions", is_flag=True, help="Without the pinyin/homophone/split layers / 不含变体层")
@click.option("--json", "as_json", is_flag=True)
def lexicon_audit_cmd(words: tuple[str, ...], benign: tuple[str, ...], column: str | None, top: int | None, no_evasions: bool, as_json: bool) -> None:
    """How often each word and tag of lexicon WORDS files fires on harmless text, most first
    (exit 0) / 统计词表中各词、各类别在无害文本上的命中次数。"""
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.lexicon_audit import AuditInputError, audit, format_audit, read_texts
    from fenghuo.checks.lexicon_file import LexiconError
    from fenghuo.checks.variants import LAYERS

    try:
        check = LexiconCheck(files=list(words), evasions=() if no_evasions else LAYERS)
        texts = [t for f in benign for t in read_texts(f, column)]
    except (LexiconError, AuditInputError, OSError) as exc:
        raise InputError(str(exc)) from None
    result = audit(check, texts)
    click.echo(json.dumps(result.to_dict(top), ensure_ascii=False, indent=2) if as_json else format_audit(result, top))


def register(root: click.Group) -> None:
    root.add_command(scan_cmd)
    root.add_command(checks_group)
    root.add_command(lexicon_group)
    root.add_command(classifier_group)
