"""``corpus report``: the audit as JSON, Markdown and DOCX — every figure with its requirement id,
a verdict per clause, and the corpus summary for publication (CN-TC-09, EU-22).

The latest report is also kept as ``<data_dir>/corpus/report.json``: the evaluation
self-assessment (CN-TC-25) reads its clauses for §5 through :func:`latest_clauses`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fenghuo.corpus.clauses import build_clauses
from fenghuo.corpus.manifest import Manifest
from fenghuo.corpus.runs import corpus_dir, read_json, results_hash, write_json

LATEST = "report.json"


def public_summary(m: Manifest | None, check: dict | None, scan: dict | None) -> dict[str, Any]:
    """What may be published: sources, kinds, languages, sizes, licences by name, filtering
    figures; never a sample, a user or a path outside the manifest's folder."""
    sizes = {s["id"]: s["samples"] for s in (check or {}).get("sources", [])}
    total = sum(sizes.values())
    scan_by = {s["id"]: s for s in (scan or {}).get("sources", [])}
    sources = []
    for src in (m.sources if m else []):
        evidence = {k: Path(v).name if k != "generator" else v for k, v in src.evidence.items() if k != "generated_at"}
        s = scan_by.get(src.id, {})
        sources.append({"id": src.id, "kind": src.kind, "language": src.language, "modality": src.modality,
                        "origin": src.origin, "samples": sizes.get(src.id), "share": round(sizes[src.id] / total, 6) if total and src.id in sizes else None,
                        "documents": evidence, "harmful_rate": s.get("rate"), "verdict": s.get("verdict")})
    return {"corpus": m.name if m else None, "organisation": m.organisation if m else None,
            "ip_complaints": m.ip_complaints if m else None, "samples": total or None, "sources": sources}


def build_report(m: Manifest | None, check: dict | None, scan: dict | None, review: dict | None) -> dict[str, Any]:
    info = {"ip_complaints": m.ip_complaints} if m else None
    clauses = build_clauses(check, scan, review, info)
    report = {
        "corpus": m.name if m else None,
        "manifest": str(m.path) if m else None, "manifest_sha256": m.sha256 if m else None,
        "runs": {"check": (check or {}).get("run"), "scan": (scan or {}).get("run"), "sample": (review or {}).get("run")},
        "clauses": clauses,
        "compliant": all(not c["result"].startswith("不符合") for c in clauses),
        "scan": {"sources": (scan or {}).get("sources"), "totals": (scan or {}).get("totals"),
                 "unconsented_pii": (scan or {}).get("unconsented_pii", [])[:100]} if scan else None,
        "manual": review,
        "summary": public_summary(m, check, scan),
    }
    report["results_sha256"] = results_hash(report)
    return report


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.2%}"


def render_markdown(r: dict[str, Any]) -> str:
    out = [f"# 训练语料合规审计 / Training-data audit — {r['corpus']}", "",
           f"**结论 / Verdict: {'符合 / COMPLIANT' if r['compliant'] else '不符合 / NON-COMPLIANT'}**", "",
           f"- 清单 / manifest: `{r['manifest']}` (sha256 `{(r['manifest_sha256'] or '')[:16]}`)",
           f"- 运行 / runs: check `{r['runs']['check']}` · scan `{r['runs']['scan']}` · sample `{r['runs']['sample']}`",
           "", "## 条款 / Clauses", "", "| 条款 / clause | 要求 / requirement | 结果 / result | 证据 / evidence |", "|---|---|---|---|"]
    out += [f"| {c['id']} | {c['title']} | {c['result']} | {c['evidence']} |" for c in r["clauses"]]
    if r["scan"]:
        out += ["", "## 各来源内容检测 / Content scan per source (CN-TC-01/02, CN-TC-27)", "",
                "| source | scanned | harmful | rate | 95% CI | verdict | PI | PI w/o consent (CN-TC-08) |", "|---|---|---|---|---|---|---|---|"]
        for s in r["scan"]["sources"]:
            out.append(f"| {s['id']} | {s['scanned']} | {s['harmful']} | {_pct(s['rate'])} | {_pct(s['ci_low'])}–{_pct(s['ci_high'])} | "
                       f"{s['verdict']} | {s['pii']} | {s['pii_unconsented']} |")
        if r["scan"]["unconsented_pii"]:
            out += ["", "### 无同意记录的个人信息 / Personal information without consent (CN-TC-08)", ""]
            out += [f"- {u['source']} `{u['file']}:{u['line']}` {', '.join(u['pii'])} (consent_id {u['consent_id']})" for u in r["scan"]["unconsented_pii"]]
    if r["manual"]:
        p = r["manual"]["pass_rate"]
        out += ["", "## 人工抽检 / Manual sample (CN-TC-26, CN-TC-11)", "",
                f"{p['passed']}/{p['n']} = {_pct(p['rate'])} (95% CI {_pct(p['ci_low'])}–{_pct(p['ci_high'])}), "
                f"required n≥{p['min_n']}, ≥{p['required']:.0%}: **{p['status']}**; pending {r['manual']['pending']}"]
    s = r["summary"]
    out += ["", "## 训练语料摘要（公开）/ Corpus summary for publication (CN-TC-09)", "",
            f"- 组织 / organisation: {s['organisation']} · 知识产权投诉 / IP complaints: {s['ip_complaints']} · 样本 / samples: {s['samples']}", "",
            "| source | kind | language | modality | origin | samples | share | documents |", "|---|---|---|---|---|---|---|---|"]
    for x in s["sources"]:
        docs = ", ".join(f"{k}: {v}" for k, v in x["documents"].items()) or "—"
        out.append(f"| {x['id']} | {x['kind']} | {x['language']} | {x['modality']} | {x['origin']} | {x['samples']} | {_pct(x['share'])} | {docs} |")
    out += ["", f"results sha256 `{r['results_sha256']}`"]
    return "\n".join(out) + "\n"


def render_docx(r: dict[str, Any]) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("训练语料合规审计 / Training-data audit", level=1)
    doc.add_paragraph(f"语料 / corpus {r['corpus']}；清单 / manifest sha256 {r['manifest_sha256']}")
    doc.add_paragraph(f"总体结论 / Overall conclusion: {'符合 / compliant' if r['compliant'] else '不符合 / non-compliant'}")
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("条款 / clause", "要求 / requirement", "结果 / result", "证据 / evidence")):
        cell.text = text
    for c in r["clauses"]:
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text, row[3].text = c["id"], c["title"], c["result"], c["evidence"]
    failing = [c for c in r["clauses"] if c["result"].startswith("不符合")]
    if failing:
        doc.add_heading("整改计划 / Remediation plan", level=2)
        for c in failing:
            doc.add_paragraph(f"{c['id']}: {c['evidence']}", style="List Bullet")
    doc.add_heading("训练语料摘要 / Corpus summary (CN-TC-09)", level=2)
    s = r["summary"]
    doc.add_paragraph(f"组织 / organisation: {s['organisation']}；知识产权投诉 / IP complaints: {s['ip_complaints']}；样本 / samples: {s['samples']}")
    t = doc.add_table(rows=1, cols=6)
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, ("source", "kind", "language", "origin", "samples", "share")):
        cell.text = text
    for x in s["sources"]:
        row = t.add_row().cells
        for cell, v in zip(row, (x["id"], x["kind"], x["language"], x["origin"], x["samples"], _pct(x["share"]))):
            cell.text = str(v)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_report(r: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "corpus-report.json", r)
    (out / "corpus-report.md").write_text(render_markdown(r), encoding="utf-8")
    (out / "corpus-report.docx").write_bytes(render_docx(r))
    write_json(corpus_dir() / LATEST, r)
    return [out / "corpus-report.json", out / "corpus-report.md", out / "corpus-report.docx"]


def latest_clauses(base: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """(clauses, {corpus, results_sha256}) of the latest ``corpus report``, or None: what the
    evaluation self-assessment lists for §5 instead of "out of scope"."""
    path = (base or corpus_dir()) / LATEST
    if not path.exists():
        return None
    r = read_json(path)
    return r["clauses"], {"corpus": r.get("corpus"), "results_sha256": r.get("results_sha256"),
                          "failing": [c["id"] for c in r["clauses"] if c["result"].startswith("不符合")]}
