"""`fenghuo classifier train` and `fenghuo classifier info`."""

from __future__ import annotations

import json

import click


@click.group("classifier")
def classifier_group() -> None:
    """The multi-category harmful-content classifier / 多类别有害内容分类器。"""


@classifier_group.command("train")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True),
              help="Folder with train.csv|train.jsonl (and dev.*), or one .csv/.jsonl file / 训练数据目录或文件")
@click.option("--out", type=click.Path(dir_okay=False), help="Model file (default: user data dir); name it in the config as `model: PATH` / 模型文件")
@click.option("--limit", type=int, default=None, help="Use only the first N training rows / 仅用前 N 行")
@click.option("--max-fpr", type=float, default=0.03, show_default=True,
              help="With a dev file and several categories: thresholds flag at most this share of its harmless rows / 误报率上限")
@click.option("--words/--no-words", default=False, show_default=True,
              help="Add word features: jieba's dictionary words of a forward-maximum-matching segmentation / 加入词特征")
def classifier_train_cmd(data_path: str, out: str | None, limit: int | None, max_fpr: float, words: bool) -> None:
    """Train the classifier on labelled CSV/JSONL (one label or several per text) and save it / 训练并保存分类器。

    \b
    CSV: columns text,label (1/0, COLD's format) or text,labels ("porn|gambling", empty = harmless).
    JSONL: {"text": "...", "labels": ["porn"]} or {"text": "...", "label": 0}.
    """
    from fenghuo.checks.classifier.train import train_from_dir

    def progress(msg: str) -> None:
        click.echo(f"  … {msg}", err=True)

    try:
        report = train_from_dir(data_path, out, limit=limit, progress=progress, max_fpr=max_fpr, words=words)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"saved 已保存: {report['model']}  ({report['train_rows']} rows, {len(report['categories'])} categories: "
               f"{', '.join(report['categories'])}; {report['seconds']:.1f} s)")
    if report.get("dev"):
        d = report["dev"]
        click.echo(f"dev 验证集: accuracy={d['accuracy']:.4f} precision={d['precision']:.4f} recall={d['recall']:.4f} f1={d['f1']:.4f} "
                   f"harmless-fpr={d['fpr']:.4f} (n={d['n']})")
    click.echo(f"use it 使用: checks: [{{type: classifier, model: {report['model']}}}]")


@classifier_group.command("info")
@click.argument("model", default="shipped")
def classifier_info_cmd(model: str) -> None:
    """Categories, thresholds and figures of MODEL (`shipped`, `default` or a path) / 模型信息。"""
    from pathlib import Path

    from fenghuo.checks.classifier.check import model_path_for
    from fenghuo.checks.classifier.model import Model

    try:
        m = Model.load(model_path_for(model, Path.cwd()))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    info = {"categories": m.categories, "thresholds": m.thresholds, "bits": m.bits, "max_n": m.max_n}
    if m.words is not None:
        info["words"] = {"count": len(m.words), "bits": m.words.bits, "categories": m.meta.get("word_categories")}
    info |= {k: m.meta[k] for k in ("flag_thresholds", "corroborate", "heldout", "dev", "train_rows") if k in m.meta}
    click.echo(json.dumps(info, ensure_ascii=False, indent=2))
