"""投诉举报 Complaints (CN-TC-17; issue 18 item 5): the tickets in the viewer's scope — category,
service, due time with a live countdown (or "no limit published"), overdue, status, feedback —
filtered by status and service; file a ticket; record its handling and the feedback to the person
(which closes it).

Every read and write calls the function behind the matching ``/api/v1`` route
(``response.complaint_routes``: ``list_complaints`` — its ``complaints.ticket_page``, a keyset
page of 100 — ``complaint_counts``, ``show_complaint``,
``file_complaint`` — which also counts the ticket into the service's complaint indicator —
``handle_complaint``, ``complaint_feedback``), so who may file, handle or see a ticket is decided
exactly as over the API: an operator its own provider's services, a regulator its jurisdiction,
an auditor reads only.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, viewer
from fenghuo.platform.errors import Invalid
from fenghuo.response import complaint_routes as routes
from fenghuo.response import complaints
from fenghuo.response.complaints import CATEGORIES, CHANNELS

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
STATUSES = ("open", "handled", "closed")
CATEGORY_NAMES = {"complaint": ("投诉", "complaint"), "report": ("举报", "report"), "ip": ("知识产权", "intellectual property"),
                  "misinformation": ("虚假信息", "misinformation"), "personal_information": ("个人信息", "personal information")}
CHANNEL_NAMES = {"phone": ("电话", "phone"), "email": ("电子邮件", "email"), "in_app": ("应用内", "in app"), "sms": ("短信", "SMS"),
                 "web": ("网页", "web"), "letter": ("信函", "letter"), "regulator": ("监管转办", "from a regulator")}
STATUS_NAMES = {"open": ("待处理", "open"), "handled": ("已处理", "handled"), "closed": ("已反馈关闭", "closed")}
FILERS = ("operator", "regulator", "admin")  # complaints.file_complaint's roles: the form is shown to them only
HANDLERS = ("operator", "admin")  # complaints.handle's
NAMES = {"categories": CATEGORIES, "channels": CHANNELS, "statuses": STATUSES, "category_names": CATEGORY_NAMES,
         "channel_names": CHANNEL_NAMES, "status_names": STATUS_NAMES, "filers": FILERS, "handlers": HANDLERS}


@router.get("/complaints")
def complaint_list(request: Request, status: str = "", service: str = "", overdue: str = "", after: str = "",
                   who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    status = status if status in STATUSES else ""
    page = complaints.ticket_page(db, who.actor, service=service or None, status=status or None, overdue=overdue == "1",
                                  after=after or None, limit=reads.PAGE)  # what GET /complaints pages with
    counts = routes.complaint_counts(service=service or None, actor=who.actor, db=db)
    services, complete = reads.service_choices(db, who.actor)
    query = urlencode({k: v for k, v in (("status", status), ("service", service), ("overdue", "1" if overdue == "1" else "")) if v})
    return render(request, who, "complaints.html", rows=page.items, counts=counts, status_filter=status, service=service,
                  overdue=overdue == "1", services=services, services_complete=complete, next=page.next, after=after,
                  filter_query=query, **NAMES)


@router.get("/complaints/{ticket_id}")
def complaint_page(ticket_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    c = routes.show_complaint(ticket_id=ticket_id, actor=who.actor, db=db_of(request))
    return render(request, who, "complaints.html", ticket=c, **NAMES)


@router.post("/complaints")
async def file_complaint(request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    """``POST /api/v1/complaints`` itself: the ticket, and its complaint event counted by the monitor."""
    body = routes.ComplaintBody(service=form.get("service", ""), category=form.get("category", ""), content=form.get("content", ""),
                                channel=form.get("channel") or "web", contact=form.get("contact", "").strip() or None,
                                received_at=form.get("received_at", "").strip() or None)
    if not body.service:
        raise Invalid("请选择服务", "choose a service", field="service")
    v = await routes.file_complaint(body=body, request=request, actor=who.actor, db=db_of(request))
    due = v["due_at"] or who.t("提供者未公布处理时限", "no handling time limit published")
    return back(f"/complaints/{v['id']}", who.t(f"已登记投诉 {v['id']}，处理时限 {due}", f"complaint {v['id']} filed, due {due}"))


@router.post("/complaints/{ticket_id}/handle")
def handle(ticket_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    body = routes.HandleBody(result=form.get("result", ""), feedback=form.get("feedback", "").strip() or None)
    v = routes.handle_complaint(ticket_id=ticket_id, body=body, actor=who.actor, db=db_of(request))
    late = who.t("（逾期）", " (late)") if v["overdue"] else ""
    return back(f"/complaints/{ticket_id}", who.t(f"已记录处理结果{late}", f"handling recorded{late}")
                + (who.t("，已反馈并关闭", "; feedback recorded, closed") if v["status"] == "closed" else ""))


@router.post("/complaints/{ticket_id}/feedback")
def feedback(ticket_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    routes.complaint_feedback(ticket_id=ticket_id, body=routes.FeedbackBody(feedback=form.get("feedback", "")), actor=who.actor,
                              db=db_of(request))
    return back(f"/complaints/{ticket_id}", who.t("已记录反馈，投诉已关闭", "feedback recorded; the complaint is closed"))
