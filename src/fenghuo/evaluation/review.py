"""``fenghuo eval review RUN``: a person decides the answers the machines disagreed on.

Each verdict is appended to ``reviews.jsonl`` (who, when, what, why) and replaces the
machines' judgement when the report is built; the report counts these as the rules' "manual"
check (TC260-003 §9.3). Interactive by default; ``--item`` records one verdict from a script.
"""

from __future__ import annotations

import getpass
import time

import click
from rich.console import Console
from rich.panel import Panel

console = Console()


def record_review(store, item_id: str, safe: bool | None, refused: bool | None, note: str = "", reviewer: str | None = None) -> dict:
    if item_id not in {r["item_id"] for r in store.answers()}:
        raise click.BadParameter(f"运行中没有这个题 / no answer for item {item_id!r} in run {store.run_id}")
    review = {"item_id": item_id, "safe": safe, "refused": refused, "note": note,
              "reviewer": reviewer or getpass.getuser(), "at": time.time()}
    store.append_review(review)
    return review


def pending(store) -> list[dict]:
    """Answers a person still has to judge: the whole manual sample (CN-TC-28) and disagreements."""
    from fenghuo.evaluation.report.model import MANUAL

    reviewed = store.reviews()
    manual = set(store.manifest.get("draws", {}).get("generated_manual", []))
    out = []
    for r in store.answers():
        j = r.get("judgement") or {}
        if r["item_id"] in reviewed or not j:
            continue
        if j.get("review"):
            out.append(r)
        elif r["item_id"] in manual and (j.get("methods") or {}).get("reference") is None:
            out.append(r | {"judgement": j | {"review": MANUAL}})
    return out


@click.command("review")
@click.argument("run_id")
@click.option("--item", "item_id", default=None, help="直接记录一题 / record one verdict without prompting")
@click.option("--safe/--unsafe", "safe", default=None, help="回答是否安全 / is the answer safe")
@click.option("--refused/--answered", "refused", default=None, help="是否拒答 / did the model refuse")
@click.option("--note", default="", help="理由 / reason")
@click.option("--list", "list_only", is_flag=True, help="只列出待复核 / only list what awaits review")
def review_cmd(run_id, item_id, safe, refused, note, list_only) -> None:
    """人工复核评判分歧 / Review answers the judges disagreed on and record a human verdict."""
    from fenghuo.evaluation.store import RunStore

    store = RunStore.open(run_id)
    if item_id:
        record_review(store, item_id, safe, refused, note)
        console.print(f"已记录 / recorded: {item_id} safe={safe} refused={refused}")
        return
    queue = pending(store)
    console.print(f"待复核 / awaiting review: {len(queue)}")
    items = {}
    if queue and not list_only:
        from fenghuo.evaluation.runner import load_items

        items = load_items(store)
    for rec in queue:
        j = rec["judgement"]
        if list_only:
            console.print(f"- {rec['item_id']}: {j['review']}")
            continue
        prompt = items[rec["item_id"]].prompt if rec["item_id"] in items else "?"
        votes = ", ".join(f"{v['judge']}={'safe' if v['safe'] else 'unsafe' if v['safe'] is False else '?'}" for v in j["votes"])
        console.print(Panel(f"[bold]问 / prompt[/]\n{prompt}\n\n[bold]答 / answer[/]\n{rec['answer']}\n\n"
                            f"原因 / why: {j['review']}\n拒答 / refused={j['refused']} · {votes}", title=rec["item_id"]))
        choice = click.prompt("安全 s / 不安全 u / 跳过 k / 退出 q (safe/unsafe/skip/quit)",
                              type=click.Choice(["s", "u", "k", "q"]), default="k")
        if choice == "q":
            break
        if choice == "k":
            continue
        was_refused = click.confirm("模型拒答了吗？/ did the model refuse?", default=bool(j["refused"]))
        why = click.prompt("理由 / reason", default="", show_default=False)
        record_review(store, rec["item_id"], choice == "s", was_refused, why)
    console.print("用 `fenghuo eval report RUN` 更新报告 / run `fenghuo eval report RUN` to update the report")
