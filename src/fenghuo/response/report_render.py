"""A report's JSON content as Markdown and as a Word document (Chinese regulators expect Word)."""

from __future__ import annotations

import io

from docx import Document

KIND = {"initial": ("初始报告", "Initial report"), "update": ("续报", "Update report"), "summary": ("总结报告", "Summary report")}
SUMMARY = {"cause": "事件原因 / Cause", "handling": "应对处置 / Handling", "harm": "危害 / Harm",
           "accountability": "责任追究 / Accountability", "rectification": "整改 / Rectification", "lessons": "教训 / Lessons"}


def _head(c: dict) -> list[tuple[str, str]]:
    zh, en = KIND[c["kind"]]
    clocks = "; ".join(f"{k['report']} due {k['due_at']} ({k['status']})" for k in c["clocks"]) or "-"
    return [("报告 / Report", f"{c['report']} — {zh} / {en} #{c['number']}"), ("事件 / Incident", f"{c['incident']}: {c['title']}"),
            ("级别 / Grade", c["grade_label"]), ("报送对象 / Recipient", f"{c['recipient']['zh']} / {c['recipient']['en']}"),
            ("时限 / Deadlines", f"{c['profile']}: {clocks}"), ("生成 / Generated", f"{c['generated_at']} by {c['generated_by']}"),
            ("完整性 / Complete", "是 / yes" if c["complete"] else "否，部分待补充 / no, parts to be supplemented"),
            ("账本 / Ledger", f"seq {c['ledger_head']['seq']} {c['ledger_head']['hash']}")]


def render_markdown(c: dict) -> str:
    zh, en = KIND[c["kind"]]
    out = [f"# 网络安全事件{zh} / Incident {en.lower()}: {c['incident']}", ""]
    out += [f"- **{k}**: {v}" for k, v in _head(c)]
    for it in c["items"]:
        out += ["", f"## {it['n']}. {it['zh']} / {it['en']}", "", it["text"]]
    if c.get("summary"):
        out += ["", "## 总结 / Summary (CN-IR-09)"]
        out += [f"- **{SUMMARY[k]}**: {v}" for k, v in c["summary"].items()]
    return "\n".join(out) + "\n"


def render_docx(c: dict) -> bytes:
    zh, en = KIND[c["kind"]]
    doc = Document()
    doc.add_heading(f"网络安全事件{zh} / Incident {en.lower()}", level=1)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for k, v in _head(c):
        row = table.add_row().cells
        row[0].text, row[1].text = k, v
    for it in c["items"]:
        doc.add_heading(f"{it['n']}. {it['zh']} / {it['en']}", level=2)
        for line in it["text"].split("\n"):
            doc.add_paragraph(line)
    if c.get("summary"):
        doc.add_heading("总结 / Summary (CN-IR-09)", level=2)
        for k, v in c["summary"].items():
            doc.add_paragraph(f"{SUMMARY[k]}: {v}")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
