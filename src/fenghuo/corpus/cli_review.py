"""`fenghuo corpus sample|review|report`: the manual sample, its reviews and the report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from fenghuo.platform.cli_support import console, print_json, refusals


def _sample_dir(run: str | None) -> Path:
    from fenghuo.corpus.runs import latest_run
    from fenghuo.platform.errors import NotFound

    if run:
        p = Path(run)
        if not p.is_dir():
            from fenghuo.corpus.runs import corpus_dir

            p = corpus_dir() / run
        return p
    found = latest_run("sample")
    if found is None:
        raise NotFound("没有抽样，请先运行 corpus sample", "no sample yet: run corpus sample first", code="not_found")
    return found


@click.command("sample")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.option("--n", "n", type=click.IntRange(1), default=4000, show_default=True, help="Items (CN-TC-26: ≥ 4000)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--annotator", help="Who annotated these items, when the samples do not say (metadata 'annotator')")
@click.option("--json", "as_json", is_flag=True)
@refusals
def sample_cmd(manifest: str, n: int, seed: int, annotator: str | None, as_json: bool) -> None:
    """Draw a reproducible manual sample from the whole corpus (the same seed, the same items).

    从全部语料中抽取可复现的人工抽检样本。"""
    from fenghuo.corpus.cli import _ledger
    from fenghuo.corpus.manifest import load_manifest
    from fenghuo.corpus.manual import draw
    from fenghuo.corpus.runs import data_hashes, file_sha256, ledger_payload, new_run_dir, write_json

    m = load_manifest(manifest)
    items, population = draw(m, n, seed, annotator)
    run = new_run_dir("sample")
    (run / "sample.jsonl").write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    files = data_hashes(m)
    summary = {"run": run.name, "corpus": m.name, "manifest": str(m.path), "manifest_sha256": m.sha256, "n": n, "seed": seed,
               "drawn": len(items), "population": population, "short": len(items) < n, "data_files": files}
    write_json(run / "summary.json", summary)
    summary["ledger_seq"] = _ledger(f"corpus:{m.name}", "sample", ledger_payload(
        "sample", run, m, files, {"n": n, "seed": seed}, file_sha256(run / "sample.jsonl"),
        {"drawn": len(items), "population": population}))
    if as_json:
        print_json(summary)
        return
    console.print(f"抽样 / sample {run.name}: {len(items)} of {population} items (seed {seed})"
                  + (" — 语料不足 / corpus smaller than n" if summary["short"] else ""))


def _decisions(path: str) -> list[tuple[str, str, str | None]]:
    p = Path(path)
    if p.suffix.lower() == ".csv":
        with open(p, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [(str(r["item"]), str(r["verdict"]).strip().lower(), r.get("note") or None) for r in rows]


@click.command("review")
@click.argument("run", required=False)
@click.option("--reviewer", required=True, help="Who reviews (must not be the item's annotator, CN-TC-11)")
@click.option("--item", "item_id", help="Record one item (non-interactive) / 记录单条")
@click.option("--verdict", type=click.Choice(["pass", "fail"]), help="With --item")
@click.option("--note")
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False), help="CSV/JSONL with item, verdict[, note]")
@click.option("--json", "as_json", is_flag=True, help="Print the pass rate as JSON")
@refusals
def review_cmd(run: str | None, reviewer: str, item_id: str | None, verdict: str | None, note: str | None,
               decisions: str | None, as_json: bool) -> None:
    """Record pass/fail per item of a manual sample (the latest unless RUN), in the terminal
    or with --item/--verdict or --decisions; prints the pass rate against 96 %.

    人工审核：逐条记录合格/不合格，标注人与审核人不得为同一人。"""
    from fenghuo.corpus.cli import _ledger
    from fenghuo.corpus.manual import load_items, load_reviews, record_review, review_summary
    from fenghuo.corpus.runs import file_sha256, ledger_payload, read_json

    folder = _sample_dir(run)
    items = load_items(folder)
    recorded = 0
    if item_id or verdict:
        if not (item_id and verdict):
            raise click.UsageError("--item 与 --verdict 需同时给出 / --item and --verdict go together")
        record_review(folder, items, item_id, reviewer, verdict, note)
        recorded = 1
    elif decisions:
        todo = _decisions(decisions)
        from fenghuo.corpus.manual import check_review

        for iid, v, _ in todo:  # all or nothing: one refused line refuses the file
            check_review(items.get(iid), iid, reviewer, v)
        for iid, v, n in todo:
            record_review(folder, items, iid, reviewer, v, n)
        recorded = len(todo)
    else:
        recorded = _interactive(folder, items, reviewer, {r["item"] for r in load_reviews(folder)})
    summary = review_summary(folder)
    summary["run"] = folder.name
    if recorded:
        meta = read_json(folder / "summary.json")
        rate = summary["pass_rate"]
        summary["ledger_seq"] = _ledger(f"corpus:{meta['corpus']}", "review", ledger_payload(
            "review", folder, None, None, {"reviewer": reviewer, "recorded": recorded, "manifest_sha256": meta["manifest_sha256"]},
            file_sha256(folder / "reviews.jsonl"), {k: rate[k] for k in ("passed", "n", "rate", "status")}))
    if as_json:
        print_json(summary)
        return
    r = summary["pass_rate"]
    console.print(f"已审 / reviewed {summary['reviewed']}/{summary['items']} · 合格率 / pass rate {r['rate']:.2%} "
                  f"(95% CI {r['ci_low']:.2%}–{r['ci_high']:.2%}) · 要求 / required n≥{r['min_n']}, ≥{r['required']:.0%}: {r['status']}")


def _interactive(folder: Path, items: dict, reviewer: str, done: set[str]) -> int:
    from fenghuo.corpus.manual import record_review

    todo = [it for it in items.values() if it["id"] not in done and it.get("annotator") != reviewer]
    console.print(f"{len(todo)} 条待审 / items to review — p 合格 pass · f 不合格 fail · s 跳过 skip · q 退出 quit")
    n = 0
    for k, it in enumerate(todo, start=1):
        console.rule(f"{k}/{len(todo)} {it['id']}")
        console.print(it["text"], markup=False, soft_wrap=True)
        answer = click.prompt("p/f/s/q", type=click.Choice(["p", "f", "s", "q"]), show_choices=False)
        if answer == "q":
            break
        if answer == "s":
            continue
        note = click.prompt("note / 说明", default="", show_default=False) if answer == "f" else None
        record_review(folder, items, it["id"], reviewer, "pass" if answer == "p" else "fail", note or None)
        n += 1
    return n


@click.command("report")
@click.option("--manifest", "manifest", type=click.Path(exists=True, dir_okay=False), help="Default: the latest scan's manifest")
@click.option("--check", "check_run", help="A check run (default: the latest)")
@click.option("--scan", "scan_run", help="A scan run folder (default: the latest)")
@click.option("--sample", "sample_run", help="A sample run (default: the latest)")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the report files (default: <data_dir>/corpus/report)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def report_cmd(manifest: str | None, check_run: str | None, scan_run: str | None, sample_run: str | None, out: str | None, as_json: bool) -> None:
    """The audit as Markdown, DOCX and JSON: every figure with its requirement id, a verdict per
    clause, the public corpus summary. The evaluation self-assessment then lists these clauses.

    审计报告：每项数据标明条款号，逐条结论，以及可公开的训练语料摘要。"""
    from fenghuo.corpus.manifest import load_manifest
    from fenghuo.corpus.manual import review_summary
    from fenghuo.corpus.report import build_report, write_report
    from fenghuo.corpus.runs import corpus_dir, latest_run, read_json

    def pick(kind: str, given: str | None) -> Path | None:
        if given:
            p = Path(given)
            return p if p.is_dir() else corpus_dir() / given
        return latest_run(kind)

    check_dir, scan_dir, sample_dir = pick("check", check_run), pick("scan", scan_run), pick("sample", sample_run)
    if check_dir is None and scan_dir is None and sample_dir is None:
        from fenghuo.platform.errors import NotFound

        raise NotFound("没有可报告的运行：先运行 corpus check / scan / sample",
                       "nothing to report: run corpus check, scan or sample first", code="not_found")
    check = read_json(check_dir / "summary.json") if check_dir else None
    if check is not None:
        check["run"] = check_dir.name
    scan = read_json(scan_dir / "summary.json") if scan_dir else None
    review = None
    if sample_dir is not None:
        review = review_summary(sample_dir)
        review["run"] = sample_dir.name
    path = manifest or (check or {}).get("manifest") or (read_json(scan_dir / "run.json")["manifest"] if scan_dir else None)
    m = load_manifest(path) if path else None
    report = build_report(m, check, scan, review)
    files = write_report(report, Path(out) if out else corpus_dir() / "report")
    if as_json:
        print_json(report)
        return
    for c in report["clauses"]:
        style = "red" if c["result"].startswith("不符合") else "green"
        console.print(f"[{style}]{c['id']}[/] {c['result']} — {c['evidence']}", soft_wrap=True)
    console.print("written / 已写入: " + ", ".join(str(f) for f in files))


def register(group: click.Group) -> None:
    for cmd in (sample_cmd, review_cmd, report_cmd):
        group.add_command(cmd)
