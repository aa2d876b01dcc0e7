"""Logging in and out, and the language switch.

Log in with a bearer token (``fenghuo token create``, or the one ``fenghuo demo --console``
prints): it is checked with ``platform.auth.authenticate`` and kept in an HttpOnly, SameSite
cookie. The login form is protected by a double-submit token of its own (there is no session
yet to derive one from), so another site cannot log a browser in as someone else.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fenghuo.console.web import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    back,
    csrf_of,
    local_path,
    new_login_csrf,
    read_form,
    render,
    same_origin,
)
from fenghuo.platform.errors import Forbidden, Unauthorized
from fenghuo.platform.web import actor_for_token

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
SESSION_SECONDS = 12 * 3600


def _next(value: str | None) -> str:
    return value if local_path(value) and not value.startswith("/login") else "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query parameter is ?next=
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    resp = render(request, None, "login.html", csrf=csrf, next=_next(next), error=None)
    resp.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/login")
    return resp


@router.post("/login")
async def login(request: Request) -> Response:
    same_origin(request)
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
        raise Forbidden("登录表单已过期，请刷新后重试", "the login form is stale: reload it and try again", code="csrf")
    token = form.get("token", "").strip()
    try:
        actor_for_token(request, token, write=False)  # failed attempts count toward the API's per-address limit
    except Unauthorized as exc:
        resp = render(request, None, "login.html", status=401, csrf=expected, next=_next(form.get("next")),
                      error=(exc.zh, exc.en))
        return resp
    resp = RedirectResponse(_next(form.get("next")), status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                    secure=request.url.scheme == "https", path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Needs the session's CSRF token, not a valid session (an expired or auditor's may log out)."""
    same_origin(request)
    form = await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(form.get("csrf", ""), csrf_of(token)):
        raise Forbidden("表单缺少有效的 CSRF 令牌", "the form has no valid CSRF token", code="csrf")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:  # noqa: A002 - ?next=
    resp = back(_next(next))
    resp.set_cookie(LANG_COOKIE, "en" if lang == "en" else "zh", max_age=365 * 86400, samesite="lax", path="/")
    return resp

