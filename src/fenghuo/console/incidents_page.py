"""事件 Incidents: the list, and one incident's detail — the timeline, every reporting clock
(CN and EU profiles) with its due time and a live countdown, the reports (generate, download
as Markdown/DOCX/JSON, submit), the duties its flags add (record one as done), ending the handling, and the accountability figures computed
from the ledger. Each action is the function its ``/api/v1`` route runs (``response.incidents``,
``response.reports``, ``response.accountability``), with the viewer's actor."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console import reads
from fenghuo.console.web import SECURITY_HEADERS, ConsoleRoute, Viewer, back, db_of, posted, render, viewer
from fenghuo.platform.errors import FenghuoError
from fenghuo.response import accountability, incidents, reports
from fenghuo.response.duties import CONTENT as DUTY_FIELDS
from fenghuo.response.report_files import report_file

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
NARRATIVE = [  # (key, 中文, English) — the report items people write (reports.ITEMS 3–8, summary keys)
    ("trend", "事态发展趋势", "trend"), ("cause", "初步判定的原因", "cause"), ("leads", "已掌握的线索", "leads"),
    ("planned", "拟采取的措施", "planned measures"), ("scene", "现场保护情况", "scene protection"),
    ("other", "其他情况", "other"), ("harm", "危害（总结）", "harm (summary)"),
    ("rectification", "整改（总结）", "rectification (summary)"), ("lessons", "教训（总结）", "lessons (summary)"),
]


@router.get("/incidents")
def incident_list(request: Request, status: str = "", after: str = "", who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    status = status if status in ("open", "ended") else ""
    page = incidents.incident_page(db, who.actor, incidents.IncidentFilter(status=status or None), after=after or None,
                                   limit=reads.PAGE)  # what GET /incidents pages with
    now = reads.now_iso(db)
    rows = [{"inc": i, "deadline": reads.next_deadline([i], now)} for i in page.items]
    return render(request, who, "incidents.html", rows=rows, status_filter=status, next=page.next, after=after,
                  filter_query=f"status={status}" if status else "")


@router.get("/incidents/{incident_id}")
def incident_page(incident_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    inc = incidents.get(db, who.actor, incident_id)
    try:
        figures = accountability.compute(db, who.actor, incident_id)
    except FenghuoError as exc:
        figures = {"unavailable": who.t(exc.zh, exc.en)}
    return render(request, who, "incident.html", inc=inc, figures=figures, narrative=NARRATIVE, duty_fields=DUTY_FIELDS,
                  deadline=reads.next_deadline([inc], reads.now_iso(db)))


@router.post("/services/{service_id}/incidents")
def open_incident(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    """A person opens an incident on a service (``POST /api/v1/incidents``): grade, title, flags."""
    flags = [f.strip() for f in re.split(r"[\s,]+", form.get("flags", "")) if f.strip()]
    inc = incidents.open_incident(db_of(request), who.actor, service_id, form.get("grade", ""), form.get("title", ""),
                                  flags=flags, detected_at=form.get("detected_at") or None)
    return back(f"/incidents/{inc['id']}", who.t(f"已开启事件 {inc['id']}", f"incident {inc['id']} opened"))


@router.post("/incidents/{incident_id}/end")
def end(incident_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    incidents.end_handling(db_of(request), who.actor, incident_id, form.get("note", ""))
    return back(f"/incidents/{incident_id}", who.t("处置已结束", "handling ended"))


@router.post("/incidents/{incident_id}/reports")
def generate(incident_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    narrative = {k: form[k] for k, _, _ in NARRATIVE if form.get(k, "").strip()}
    made = reports.generate(db_of(request), who.actor, incident_id, form.get("kind", ""), narrative)
    return back(f"/incidents/{incident_id}", who.t(f"已生成报告 {made['report']}", f"report {made['report']} generated"))


@router.post("/incidents/{incident_id}/duties/{kind}")
def complete_duty(incident_id: str, kind: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    content = {k[2:]: v for k, v in form.items() if k.startswith("c.") and v.strip()}
    incidents.complete_duty(db_of(request), who.actor, incident_id, kind, content)
    return back(f"/incidents/{incident_id}", who.t(f"已记录履行职责 {kind}", f"duty {kind} recorded as done"))


@router.post("/reports/{report_id}/submit")
def submit(report_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    done = reports.submit(db_of(request), who.actor, report_id, form.get("to", ""))
    incident = form.get("incident", "")
    return back(f"/incidents/{incident}" if incident else "/incidents",
                who.t(f"报告 {done['report']} 已报送 {done['submitted_to']}", f"report {done['report']} submitted to {done['submitted_to']}"))


@router.get("/reports/{report_id}.{fmt}")
def download(report_id: str, fmt: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    name, data, media = report_file(db_of(request), who.actor, report_id, fmt)
    return Response(data, media_type=media, headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})
