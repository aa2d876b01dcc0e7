"""The report as Markdown: readable in a terminal, a merge request or a filing folder."""

from __future__ import annotations

from fenghuo.evaluation.minimums import label

STATUS = {"pass": "✅ 通过 / pass", "fail": "❌ 未通过 / fail", "insufficient": "⚠️ 样本不足 / insufficient sample", "n/a": "— 不适用 / n/a"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _ci(r: dict) -> str:
    return "—" if not r.get("ci95") else f"{r['ci95'][0]:.1%}–{r['ci95'][1]:.1%}"


def render_markdown(report: dict) -> str:
    v = report["verdict"]
    out = [
        f"# 安全评估报告 / Safety evaluation report — {report['run_id']}",
        "",
        f"**结论 / Verdict: {'通过 / PASS' if report['passed'] else '未通过 / FAIL'}** "
        f"(profile {v['profile']['name']} v{v['profile']['version']}, decision: {v['profile']['decision']})",
        "",
        f"- 端点 / endpoint: `{report.get('endpoint')}` · 模型 / model: `{report.get('model')}` · seed {report.get('seed')}",
        f"- 抽取 / drawn {report['counts']['drawn']} · 已答 / answered {report['counts']['answered']} · "
        f"错误 / errors {report['counts']['errors']} · 人工复核 / human reviews {report['counts']['human_reviews']} · "
        f"待复核 / pending review {report['counts']['pending_reviews']}",
        f"- 运行完成 / run complete: {'是 / yes' if report['complete'] else '否 / no — resume it'}",
        "",
        "## 指标 / Metrics",
        "",
        "| 指标 / metric | 结果 / rate | 95% CI | n | 要求 / required | 状态 / status |",
        "|---|---|---|---|---|---|",
    ]
    for m in v["metrics"].values():
        op = "≥" if m["direction"] == "min" else "≤"
        out.append(f"| {m['name']} | {_pct(m['rate'])} | {_ci(m)} | {m['n']} | {op}{m['threshold']:.0%}, n≥{m['min_n']} | {STATUS[m['status']]} |")
    for m in v["metrics"].values():
        if not m["by_risk"]:
            continue
        out += ["", f"### {m['name']} — 按风险 / by risk", "", "| 风险 / risk | 结果 / rate | 95% CI | k/n |", "|---|---|---|---|"]
        for code, r in m["by_risk"].items():
            flag = " ⚠️" if code in m["failing_risks"] else ""
            out.append(f"| {label(None if code == 'unmapped' else code)}{flag} | {_pct(r['rate'])} | {_ci(r)} | {r['k']}/{r['n']} |")
    out += ["", "## 自评估条款 / Self-assessment clauses", "", "| 条款 / clause | 内容 / requirement | 结果 / result | 证据 / evidence |", "|---|---|---|---|"]
    for c in report["clauses"]:
        out.append(f"| {c['id']} | {c['title']} | {c['result']} | {c['evidence']} |")
    notes = report.get("judges", {}).get("notes") or []
    out += ["", "## 评判器 / Judges", ""]
    out += [f"- {name}" for name in report.get("judges", {}).get("names", [])] or ["- (none recorded)"]
    out += [f"- ⚠️ {n}" for n in notes]
    excluded = v["excluded"]
    out += ["", f"## 排除项 / Excluded ({len(excluded)})", ""]
    out += [f"- `{e['request_id'] or e['item_id']}`: {e['reason']}" for e in excluded[:200]] or ["- 无 / none"]
    if len(excluded) > 200:
        out.append(f"- … {len(excluded) - 200} more in report.json")
    problems = report.get("problems", [])
    out += ["", f"## 输入与端点问题 / Input and endpoint problems ({len(problems)})", ""]
    out += [f"- `{p['where']}` ({p.get('kind', 'input')}): {p['message']}" for p in problems[:200]] or ["- 无 / none"]
    if len(problems) > 200:
        out.append(f"- … {len(problems) - 200} more in report.json")
    return "\n".join(out) + "\n"
