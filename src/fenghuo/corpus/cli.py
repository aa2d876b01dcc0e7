"""`fenghuo corpus check|scan|sample|review|report` — the training-data audit (issue 17).

Every run writes its folder under ``<data_dir>/corpus`` (or ``--out``) and one ledger entry in
the local database (``--db``); a run against ``--server`` is refused, since the files are here.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from fenghuo.platform.cli_support import client, console, err_console, print_json, refusals


def _ledger(subject: str, kind: str, payload: dict) -> int:
    """Append to the local ledger; the payload is the run's record."""
    from fenghuo.corpus.runs import record
    from fenghuo.platform.errors import FenghuoError

    c = client()
    if not hasattr(c, "db"):
        raise FenghuoError("corpus 命令只写本地账本，请去掉 --server", "corpus commands record in the local ledger: drop --server",
                           code="needs_database")
    return c.call(lambda db, actor: record(db, actor.label, subject, kind, payload), "POST", None)


@contextmanager
def _progress(label: str, total: int | None, quiet: bool):
    """A rich progress bar on stderr (hidden with --json or when not a terminal)."""
    if quiet or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@click.group("corpus")
def corpus_group() -> None:
    """Training-data compliance audit (TC260-003 §5, §9.2) / 训练语料合规审计。"""


@corpus_group.command("check")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@refusals
def check_cmd(manifest: str, as_json: bool) -> None:
    """Provenance per source and per sample, licences and contracts, two sources per language
    and type, synthetic metadata, foreign open-source share. Exit 1 on any problem.

    来源与授权完整性检查：每个问题给出来源、文件与行号。"""
    from fenghuo.corpus.audit import run_check
    from fenghuo.corpus.manifest import load_manifest
    from fenghuo.corpus.runs import data_hashes, new_run_dir, results_hash, write_json

    m = load_manifest(manifest)
    with _progress("检查 / checking", None, as_json) as progress:
        result = run_check(m, progress)
    run = new_run_dir("check")
    write_json(run / "summary.json", result)
    files = data_hashes(m)
    write_json(run / "run.json", {"manifest": str(m.path), "manifest_sha256": m.sha256, "data_files": files})
    from fenghuo.corpus.runs import ledger_payload

    result["run"] = run.name
    result["ledger_seq"] = _ledger(f"corpus:{m.name}", "check", ledger_payload(
        "check", run, m, files, {}, results_hash(result), {"clauses": result["clauses"], "totals": result["totals"]}))
    if as_json:
        print_json(result)
    else:
        _print_check(result)
    sys.exit(0 if result["ok"] else 1)


def _print_check(r: dict) -> None:
    from rich.table import Table

    t = Table(title=f"语料来源 / sources — {r['corpus']}")
    for col in ("id", "kind", "lang", "origin", "files", "samples", "incomplete 不完整", "unreadable 不可读"):
        t.add_column(col)
    for s in r["sources"]:
        t.add_row(s["id"], s["kind"], s["language"], s["origin"], str(s["files"]), str(s["samples"]), str(s["incomplete"]), str(s["unreadable"]))
    console.print(t)
    for p in r["problems"]:
        where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
        console.print(f"[red]✗[/] {p['clause']} [bold]{p['source']}[/] {where}: {p['problem']}", soft_wrap=True)
    for o in r["omitted"]:
        console.print(f"  … {o['source']} {o['clause']}: {o['more']} more / 另有 {o['more']} 条: {o['problem']}", soft_wrap=True)
    for w in r["warnings"]:
        console.print(f"[yellow]![/] {w['clause']}: {w['problem']}", soft_wrap=True)
    for clause, verdict in r["clauses"].items():
        console.print(f"{clause}: {verdict}")
    console.print(f"run {r['run']} · ledger #{r['ledger_seq']}")


@corpus_group.command("scan")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.option("--all", "scan_all", is_flag=True, help="Every sample (default) / 全量")
@click.option("--fraction", type=click.FloatRange(0.0, 1.0, min_open=True), help="A seeded random share, e.g. 0.1 (CN-TC-27: ≥ 0.1)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checks", "checks", type=click.Path(exists=True, dir_okay=False), help="Pipeline config (default: the packaged one)")
@click.option("--engine", type=click.Choice(["local", "ray", "inline"]), default="local", show_default=True)
@click.option("--workers", type=int, help="Local processes (default: every core)")
@click.option("--address", help="Ray cluster address (with --engine ray); default: start Ray here")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder (default: under the data directory)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def scan_cmd(manifest: str, scan_all: bool, fraction: float | None, seed: int, checks: str | None, engine: str,
             workers: int | None, address: str | None, out: str | None, as_json: bool) -> None:
    """Run the content checks over every sample or a seeded fraction; per-sample results to
    Parquet, per-source rates with Wilson intervals, a source above 5 % harmful is do-not-use;
    PII without a consent record is listed.

    抽样或全量内容检测：来源违法不良信息比例超过 5% 即标为不可用。"""
    from fenghuo.corpus.manifest import load_manifest
    from fenghuo.corpus.runs import data_hashes, ledger_payload, new_run_dir, write_json
    from fenghuo.corpus.scan import Settings, run_scan

    if scan_all and fraction is not None:
        raise click.UsageError("--all 与 --fraction 只能选一个 / use --all or --fraction, not both")
    m = load_manifest(manifest)
    s = Settings(fraction=1.0 if fraction is None else fraction, seed=seed, checks=checks, engine=engine,
                 workers=workers, address=address)
    run = Path(out) if out else new_run_dir("scan")
    run.mkdir(parents=True, exist_ok=True)
    files = data_hashes(m)
    write_json(run / "run.json", {"manifest": str(m.path), "manifest_sha256": m.sha256, "data_files": files,
                                  "settings": s.recorded(), "engine": engine, "workers": workers, "address": address})
    with _progress("扫描 / scanning", None, as_json) as progress:
        summary = run_scan(m, s, run / "results.parquet", progress)
    summary["run"] = str(run)
    write_json(run / "summary.json", summary)
    figures = {"sources": [{k: x[k] for k in ("id", "scanned", "harmful", "verdict")} for x in summary["sources"]],
               "scanned": summary["totals"]["scanned"], "harmful": summary["totals"]["harmful"]}
    summary["ledger_seq"] = _ledger(f"corpus:{m.name}", "scan", ledger_payload(
        "scan", run, m, files, s.recorded(), summary["results_sha256"], figures))
    if as_json:
        print_json({k: summary[k] for k in ("sources", "totals", "unconsented_pii", "results_sha256", "run", "ledger_seq")})
        return
    _print_scan(summary)


def _print_scan(r: dict) -> None:
    from rich.table import Table

    t = Table(title=f"内容检测 / content scan — {r['corpus']}")
    for col in ("source", "scanned", "harmful", "rate", "95% CI", "verdict", "PII", "PII w/o consent"):
        t.add_column(col)
    for s in r["sources"]:
        style = "red" if s["verdict"] == "do-not-use" else "green"
        t.add_row(s["id"], str(s["scanned"]), str(s["harmful"]), f"{s['rate']:.2%}", f"{s['ci_low']:.2%}–{s['ci_high']:.2%}",
                  f"[{style}]{s['verdict']}[/]", str(s["pii"]), str(s["pii_unconsented"]))
    console.print(t)
    tot = r["totals"]
    console.print(f"total 合计: {tot['scanned']} scanned of {tot['samples']} ({tot['scanned_share']:.1%}), "
                  f"{tot['harmful']} harmful ({tot['rate']:.2%}, CI {tot['ci_low']:.2%}–{tot['ci_high']:.2%}); "
                  f"CN-TC-27 technical sample: {tot['technical_sample']['status']}")
    for u in r["unconsented_pii"][:50]:
        console.print(f"[yellow]PII[/] {u['source']} {u['file']}:{u['line']} {','.join(u['pii'])} consent={u['consent_id']}")
    console.print(f"run {r['run']} · ledger #{r['ledger_seq']} · results {r['results_sha256'][:16]}")


def register(root: click.Group) -> None:
    from fenghuo.corpus import cli_review

    cli_review.register(corpus_group)
    root.add_command(corpus_group)
