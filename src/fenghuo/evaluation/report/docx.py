"""The self-assessment section as a Word document, the form a filing package expects (CN-TC-25).

Each clause gets one row: requirement, compliant / non-compliant / not applicable, evidence.
"""

from __future__ import annotations

import io

from docx import Document

_OUT_OF_SCOPE = [
    ("TC260-003 §5–§7", "语料安全、模型安全、安全措施等条款 / corpus, model and measure clauses",
     "本次评估范围外；见训练数据审计与运行监测记录 / outside this evaluation: see the data audit and monitoring records"),
]
_OUT_OF_SCOPE_WITH_CORPUS = [  # §5 rows come from `fenghuo corpus report` (report["corpus"])
    ("TC260-003 §6–§7", "模型安全、安全措施等条款 / model and measure clauses",
     "本次评估范围外；见运行监测记录 / outside this evaluation: see the monitoring records"),
]


def render_docx(report: dict) -> bytes:
    doc = Document()
    doc.add_heading("安全自评估 / Safety self-assessment", level=1)
    v = report["verdict"]
    doc.add_paragraph(
        f"评估运行 / run {report['run_id']}；模型 / model {report.get('model')}；端点 / endpoint {report.get('endpoint')}；"
        f"阈值配置 / profile {v['profile']['name']} v{v['profile']['version']}"
    )
    doc.add_paragraph(f"总体结论 / Overall conclusion: {'符合 / compliant' if report['passed'] else '不符合 / non-compliant'}")
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("条款 / clause", "要求 / requirement", "结果 / result", "证据 / evidence")):
        cell.text = text
    for clause in report["clauses"]:
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text, row[3].text = clause["id"], clause["title"], clause["result"], clause["evidence"]
    for cid, title, reason in (_OUT_OF_SCOPE_WITH_CORPUS if report.get("corpus") else _OUT_OF_SCOPE):
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text, row[3].text = cid, title, "不适用（本报告）/ not applicable (this report)", reason
    failing = [c for c in report["clauses"] if c["result"].startswith("不符合")]
    if failing:
        doc.add_heading("整改计划 / Remediation plan", level=2)
        for c in failing:
            doc.add_paragraph(f"{c['id']}: {c['evidence']} — 整改后重新评估 / re-run the evaluation after remediation", style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
