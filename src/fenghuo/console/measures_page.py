"""用户措施 Per-user measures (issue 18 item 9, CN-PO-09): warn, restrict or suspend one end user
of a service, and lift the measure — the page of one service, linked from the service page.

Every read and write is the function ``/api/v1/services/{id}/user-measures`` runs
(``control.user_measures.listing``, ``apply``, ``lift``) with the logged-in actor, so the rules
are the API's: an operator of the service's provider, a regulator of its jurisdiction or above,
or an admin may impose and lift; an auditor reads; a measure a regulator took is lifted or
replaced only by a regulator (403 ``regulator_hold``); each apply and lift is a ledger entry
written in the same transaction. The console adds only the form, its CSRF check and the words.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, viewer
from fenghuo.control import services as registry
from fenghuo.control import user_measures
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
MEASURE_NAMES = {"warn": ("警示", "warn"), "restrict": ("限制（限速）", "restrict (rate limit)"), "suspend": ("暂停服务", "suspend")}
SHOWN = 200  # newest rows shown; older ones by filtering on the user id
LIFT_REASONS = {"replaced": ("被新措施取代", "replaced by a new measure")}


def may_command(role: Role) -> bool:
    return role in user_measures.COMMANDERS


def rows(measures: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Newest first, each marked in force / lifted / expired (as the guard would see it)."""
    out = []
    for m in sorted(measures, key=lambda m: m["applied_at"], reverse=True):
        status = "lifted" if m["lifted_at"] else ("expired" if m["until"] and m["until"] <= now else "in_force")
        out.append({**m, "status": status})
    return out


@router.get("/services/{service_id}/user-measures")
def measures_page(service_id: str, request: Request, user: str = "", who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    svc = registry.get(db, who.actor, service_id)  # 404 unknown, 403 out of scope: before anything else
    data = user_measures.listing(db, who.actor, service_id, include_ended=True, limit=None)
    all_rows = rows(data["measures"], data["at"])
    user = user.strip()
    shown = [m for m in all_rows if m["user"] == user] if user else all_rows
    return render(request, who, "measures.html", svc=svc, measures=shown[:SHOWN], hidden=max(0, len(shown) - SHOWN),
                  in_force=[m for m in all_rows if m["status"] == "in_force"],
                  user_filter=user, at=data["at"], can_command=may_command(who.actor.role),
                  is_regulator=who.actor.role is Role.regulator, names=MEASURE_NAMES, lift_reasons=LIFT_REASONS,
                  max_rate=user_measures.MAX_RATE, max_user=user_measures.MAX_USER_ID)


def _rate(form: dict[str, str]) -> int | None:
    text = form.get("rate", "").strip()
    if not text:
        return None  # the domain says when a rate is needed (restrict) or refused (warn, suspend)
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"每分钟请求数 rate 必须是整数：{text[:40]}", f"the rate (requests per minute) must be a whole number: {text[:40]}",
                      field="rate") from None


@router.post("/services/{service_id}/user-measures")
def apply_measure(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    m = user_measures.apply(db_of(request), who.actor, service_id, form.get("user", ""), form.get("measure", ""),
                            form.get("reason", ""), rate=_rate(form), until=form.get("until", "").strip() or None)
    zh, en = MEASURE_NAMES[m["measure"]]
    until = f"，至 {m['until']}" if m["until"] else "，无期限"
    until_en = f" until {m['until']}" if m["until"] else ", no end set"
    return back(f"/services/{service_id}/user-measures",
                who.t(f"已对用户 {m['user']} 采取措施：{zh}{until}", f"measure on user {m['user']}: {en}{until_en}"))


@router.post("/services/{service_id}/user-measures/lift")
def lift_measure(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    m = user_measures.lift(db_of(request), who.actor, service_id, form.get("user", ""), form.get("reason", ""))
    zh, en = MEASURE_NAMES[m["measure"]]
    return back(f"/services/{service_id}/user-measures",
                who.t(f"已解除用户 {m['user']} 的措施（{zh}）", f"lifted the measure on user {m['user']} ({en})"))
