"""The report as one self-contained HTML file with inline SVG charts (no scripts, no CDN).

A regulator opens it offline; per-risk bars show each rate, a whisker its Wilson 95% interval,
and a dashed line the threshold, so "which risks are weak and how sure are we" is one look.
"""

from __future__ import annotations

from html import escape

from fenghuo.evaluation.minimums import label
from fenghuo.evaluation.report.markdown import STATUS, _ci, _pct

_CSS = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}
.pass{color:#17803d}.fail{color:#b3261e}.insufficient{color:#b26a00}h1 .v{padding:2px 10px;border-radius:4px;color:#fff}
.vpass{background:#17803d}.vfail{background:#b3261e}svg text{font-size:11px}"""


def bar_chart(metric: dict) -> str:
    """Horizontal bars per risk: rate, CI whisker, threshold line."""
    rows = list(metric["by_risk"].items())
    if not rows:
        return ""
    width, left, row_h = 760, 260, 18
    height = row_h * len(rows) + 30
    scale = lambda x: left + x * (width - left - 20)  # noqa: E731
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(metric["name"])}">']
    for i, (code, r) in enumerate(rows):
        y = 10 + i * row_h
        colour = "#b3261e" if code in metric["failing_risks"] else "#3b6ea5"
        name = label(None if code == "unmapped" else code)
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(name[:28])} (n={r["n"]})</text>')
        if r["rate"] is not None:
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{scale(r["rate"]) - left:.1f}" height="{row_h - 6}" fill="{colour}" opacity="0.8"/>')
            lo, hi = r["ci95"]
            parts.append(f'<line x1="{scale(lo):.1f}" x2="{scale(hi):.1f}" y1="{y + 8}" y2="{y + 8}" stroke="#111" stroke-width="1.5"/>')
            parts.append(f'<text x="{scale(hi) + 4:.1f}" y="{y + 12}">{r["rate"]:.0%}</text>')
    tx = scale(metric["threshold"])
    parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="5" y2="{height - 18}" stroke="#b3261e" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{tx:.1f}" y="{height - 5}" text-anchor="middle">{metric["threshold"]:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict) -> str:
    v = report["verdict"]
    ok = report["passed"]
    h = [f"<!doctype html><html lang=zh><meta charset=utf-8><title>安全评估 {escape(report['run_id'])}</title><style>{_CSS}</style><body>"]
    h.append(f"<h1>安全评估报告 / Safety evaluation <span class='v {'vpass' if ok else 'vfail'}'>{'通过 PASS' if ok else '未通过 FAIL'}</span></h1>")
    h.append(f"<p>run <code>{escape(report['run_id'])}</code> · endpoint <code>{escape(str(report.get('endpoint')))}</code> · model <code>{escape(str(report.get('model')))}</code> · profile {escape(v['profile']['name'])} v{escape(v['profile']['version'])}</p>")
    c = report["counts"]
    h.append(f"<p>抽取 drawn {c['drawn']} · 已答 answered {c['answered']} · 错误 errors {c['errors']} · 人工复核 reviewed {c['human_reviews']} · 待复核 pending {c['pending_reviews']}</p>")
    h.append("<table><tr><th>指标 metric</th><th>rate</th><th>95% CI</th><th>n</th><th>required</th><th>status</th></tr>")
    for m in v["metrics"].values():
        op = "≥" if m["direction"] == "min" else "≤"
        h.append(f"<tr><td>{escape(m['name'])}</td><td>{_pct(m['rate'])}</td><td>{_ci(m)}</td><td>{m['n']}</td><td>{op}{m['threshold']:.0%}, n≥{m['min_n']}</td><td class='{m['status'].replace('/', '')}'>{escape(STATUS[m['status']])}</td></tr>")
    h.append("</table>")
    for m in v["metrics"].values():
        if m["by_risk"]:
            h.append(f"<h2>{escape(m['name'])} — 按风险 / by risk</h2>{bar_chart(m)}")
    h.append("<h2>自评估条款 / Self-assessment</h2><table><tr><th>clause</th><th>requirement</th><th>result</th><th>evidence</th></tr>")
    for cl in report["clauses"]:
        h.append(f"<tr><td>{escape(cl['id'])}</td><td>{escape(cl['title'])}</td><td>{escape(cl['result'])}</td><td>{escape(cl['evidence'])}</td></tr>")
    h.append("</table>")
    for note in report.get("judges", {}).get("notes") or []:
        h.append(f"<p class=insufficient>⚠ {escape(note)}</p>")
    h.append(f"<h2>排除项 / Excluded ({len(v['excluded'])})</h2><ul>")
    h += [f"<li><code>{escape(str(e['request_id'] or e['item_id']))}</code>: {escape(e['reason'])}</li>" for e in v["excluded"][:300]]
    h.append(f"</ul><h2>问题 / Problems ({len(report['problems'])})</h2><ul>")
    h += [f"<li><code>{escape(p['where'])}</code>: {escape(str(p['message']))}</li>" for p in report["problems"][:300]]
    h.append("</ul></body></html>")
    return "\n".join(h)
