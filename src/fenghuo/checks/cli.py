"""`fenghuo scan`, `fenghuo lexicon stats`, `fenghuo classifier train`."""

from __future__ import annotations

import json
import sys

import click

from fenghuo.checks.base import Verdict


class InputError(click.ClickException):
    """A configuration or input problem: exit status 2, as for a usage error (1 means blocked)."""

    exit_code = 2


def _pipeline(config: str | None, lexicon: tuple[str, ...]):
    from fenghuo.checks.config import build_lexicon
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    try:
        pipe = load_pipeline(config)
        if lexicon:
            pipe.checks.insert(0, build_lexicon({"files": list(lexicon), "name": "lexicon.cli"}, pipe.policy, __import__("pathlib").Path.cwd()))
    except (ConfigError, ValueError, OSError) as exc:
        raise InputError(str(exc)) from None
    return pipe


def _print(text: str, v: Verdict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"text": text, **v.to_dict()}, ensure_ascii=False))
        return
    status = "BLOCK 拦截" if v.blocked else ("FLAG 标记" if v.findings else "PASS 通过")
    click.echo(f"{status}  ({v.elapsed_us:.0f} µs)  {text[:60]!r}")
    for f in v.findings:
        score = f" score={f.score:.3f}" if f.score is not None else ""
        click.echo(f"  [{f.start}:{f.end}] {f.category} {f.action.value} risk={f.risk or '-'} {text[f.start:f.end]!r} ({f.rule}){score}")
    for e in v.errors:
        click.echo(f"  error 错误: {e}")


@click.command("scan")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text / 输出 JSON")
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML (default: $FENGHUO_CHECKS_CONFIG or packaged) / 管线配置")
@click.option("--lexicon", multiple=True, type=click.Path(dir_okay=False), help="Extra lexicon file(s) / 追加词表文件")
def scan_cmd(text: str | None, as_json: bool, config: str | None, lexicon: tuple[str, ...]) -> None:
    """Run the content checks on TEXT, or on each line of stdin with `-` / 检查文本或标准输入的每一行。

    \b
    Exit status 退出码:
      0  nothing scanned has a blocking finding / 无拦截
      1  at least one text or line has a finding whose action is block / 至少一条被拦截
      2  usage, configuration or input error (incl. a non-UTF-8 stdin line) / 用法、配置或输入错误
    """
    pipe = _pipeline(config, lexicon)
    for note in pipe.notes:
        click.echo(f"note 提示: {note}", err=True)
    if text is not None and text != "-":
        v = pipe.scan(text)
        _print(text, v, as_json)
        sys.exit(1 if v.blocked else 0)
    stream = sys.stdin.buffer
    blocked = bad_input = False
    for n, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            click.echo(f"stdin line {n}: not UTF-8 (byte {raw[exc.start]:#04x} at {exc.start}); skipped / 第{n}行不是 UTF-8，已跳过", err=True)
            bad_input = True
            continue
        v = pipe.scan(line)
        blocked |= v.blocked
        _print(line, v, as_json)
    # A blocked line is the answer the caller asked for; an unreadable line means the answer
    # is incomplete, which outranks "nothing blocked" but not a block that was found.
    sys.exit(1 if blocked else 2 if bad_input else 0)


@click.group("lexicon")
def lexicon_group() -> None:
    """Keyword lexicons / 关键词词库。"""


@lexicon_group.command("stats")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML whose category→risk map to use / 使用其类别映射")
def lexicon_stats_cmd(files: tuple[str, ...], as_json: bool, config: str | None) -> None:
    """Coverage of lexicon FILEs against TC260-003 §8.1 (CN-TC-20) / 词库覆盖率统计。"""
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
    click.echo(json.dumps(stats.to_dict(), ensure_ascii=False, indent=2) if as_json else format_stats(stats))


@click.group("classifier")
def classifier_group() -> None:
    """The offensive-content classifier / 有害内容分类器。"""


@classifier_group.command("train")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, exists=True), help="Folder with train.csv (and dev.csv) / 训练数据目录")
@click.option("--out", type=click.Path(dir_okay=False), help="Model file (default: user data dir) / 模型文件")
@click.option("--limit", type=int, default=None, help="Use only the first N training rows / 仅用前 N 行")
def classifier_train_cmd(data_dir: str, out: str | None, limit: int | None) -> None:
    """Train the classifier from labelled CSV (COLD format) and save it / 训练并保存分类器。"""
    from fenghuo.checks.classifier.train import train_from_dir

    try:
        report = train_from_dir(data_dir, out, limit=limit)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"saved 已保存: {report['model']}  ({report['train_rows']} rows, {report['seconds']:.1f} s)")
    if report.get("dev"):
        d = report["dev"]
        click.echo(f"dev 验证集: accuracy={d['accuracy']:.4f} precision={d['precision']:.4f} recall={d['recall']:.4f} f1={d['f1']:.4f} (n={d['n']})")


def register(root: click.Group) -> None:
    root.add_command(scan_cmd)
    root.add_command(lexicon_group)
    root.add_command(classifier_group)
