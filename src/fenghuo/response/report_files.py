"""Reading back a generated report's files (JSON, Markdown, DOCX) for someone who may see its
incident: the console's download links, and any other reader that should not know where
``reports.generate`` wrote them. The bytes are the ones written at generation (the JSON is what
the ledger's sha256 covers); a file gone from disk is rendered again from the stored content."""

from __future__ import annotations

from pathlib import Path

from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response.models import Incident, Report

MEDIA = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def report_file(db: Database, actor: Actor, report_id: str, fmt: str) -> tuple[str, bytes, str]:
    """(file name, bytes, media type) of one report in one format; 404 unknown, 403 out of scope."""
    if fmt not in MEDIA:
        raise Invalid(f"格式必须是 {'/'.join(MEDIA)}", f"format must be one of {', '.join(MEDIA)}", field="format")
    with db.reader() as s:
        r = s.get(Report, report_id)
        if r is None:
            raise NotFound(f"未知报告 {report_id}", f"unknown report {report_id}")
        inc = s.get(Incident, r.incident_id)
        scope.require_visible(s, actor, s.get(Service, inc.service_id))
        files, content = dict(r.files or {}), dict(r.content)
    path = Path(files.get(fmt, ""))
    if files.get(fmt) and path.is_file():
        data = path.read_bytes()
    else:
        import json

        from fenghuo.response.report_render import render_docx, render_markdown

        data = {"json": lambda: json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True).encode(),
                "md": lambda: render_markdown(content).encode(), "docx": lambda: render_docx(content)}[fmt]()
    return f"{report_id}.{fmt}", data, MEDIA[fmt]
