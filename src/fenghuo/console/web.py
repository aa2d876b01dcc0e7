"""The console's web plumbing: who is looking (the session cookie), the CSRF check on every
form, the language, and rendering a page — or a refusal — as HTML.

The session cookie holds the bearer token itself (HttpOnly, SameSite=Lax, Secure over HTTPS)
and every request turns it back into the acting person with ``platform.web.actor_for_token``,
the check the JSON API runs on a bearer token: a revoked token stops working in the console on
the next click, and the console can never see or do more than the same token could through
``/api/v1``.

CSRF: every state-changing form carries ``csrf``, an HMAC of the session token (stateless, the
same on every replica, unreadable to another site because the cookie is HttpOnly and pages are
same-origin only); a POST without it, or from another origin, is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fenghuo.platform.db import Database
from fenghuo.platform.errors import FenghuoError, Forbidden, Invalid, TooLarge, Unauthorized
from fenghuo.platform.inputs import unstorable
from fenghuo.platform.roles import Actor
from fenghuo.platform.web import READ_METHODS, actor_for_token

SESSION_COOKIE = "fenghuo_session"
LANG_COOKIE = "fenghuo_lang"
LOGIN_CSRF_COOKIE = "fenghuo_login_csrf"
MAX_FORM_BYTES = 64 * 1024
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    # Nothing outside this server: scripts and styles are the console's own files, no inline code.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make the browser send "Origin: null" on our own forms
    "X-Frame-Options": "DENY",
}

env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}  # still HTML-safe (<, >, &, ' escaped)


class NeedLogin(Exception):
    """No (valid) session: a page redirects to the login form."""


@dataclass(frozen=True)
class Viewer:
    actor: Actor
    csrf: str
    lang: str

    def t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh


def csrf_of(token: str) -> str:
    return hmac.new(b"fenghuo-console-csrf/1", token.encode(), hashlib.sha256).hexdigest()[:40]


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def db_of(request: Request) -> Database:
    return request.app.state.runtime.db  # fenghuo.api.runtime, as platform.web.get_db


def runtime_of(request: Request) -> Any:
    return request.app.state.runtime


def viewer(request: Request) -> Viewer:
    """The acting person from the session cookie, through the JSON API's own check
    (``platform.web.actor_for_token``: failure limit, an auditor sends no write, a scraper
    token reads only /metrics)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NeedLogin()
    try:
        actor = actor_for_token(request, token, write=request.method not in READ_METHODS)
    except Unauthorized:
        raise NeedLogin() from None
    return Viewer(actor=actor, csrf=csrf_of(token), lang=lang_of(request))


def same_origin(request: Request) -> None:
    """A POST whose Origin (or, without one, Referer) names another site is refused."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return  # neither header: the CSRF token alone decides
    host = urlsplit(origin).netloc if origin != "null" else "null"
    if host != request.headers.get("host"):
        raise Forbidden("跨站请求被拒绝", "cross-site request refused", code="csrf")


async def read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise TooLarge("表单过大", "form too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("表单无法解析", "the form could not be read") from None
    form = {k: v[0] for k, v in parsed.items()}
    found = unstorable(form)  # NUL: PostgreSQL refuses it (a 500 there), as the API's bodies do
    if found is not None:
        (where, (zh, en)) = found
        raise Invalid(f"表单字段 {where} {zh}", f"form field {where} {en}", field=where)
    return form


async def posted(request: Request, who: Viewer = Depends(viewer)) -> dict[str, str]:
    """The fields of a state-changing form, after the origin and CSRF checks (403 otherwise)."""
    same_origin(request)
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", ""), who.csrf):
        raise Forbidden("表单缺少有效的 CSRF 令牌，请刷新页面后重试", "the form has no valid CSRF token: reload the page and try again",
                        code="csrf")
    return form


def render(request: Request, who: Viewer | None, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = who.lang if who else lang_of(request)

    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    html = env.get_template(template).render(request=request, who=who, lang=lang, t=t, path=request.url.path,
                                             query=request.url.query, flash=request.query_params.get("flash"), **ctx)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def local_path(to: str | None) -> bool:
    """A path on this site only: not ``//host``, and not ``/\\host`` (which browsers read as ``//host``)."""
    return bool(to) and to.startswith("/") and not to.startswith("//") and "\\" not in to and not any(ord(c) < 32 for c in to)


def back(to: str, flash: str | None = None) -> RedirectResponse:
    """After a form: back to a page of this console (303, so a reload does not post again)."""
    if not local_path(to):
        to = "/"
    if flash:
        from urllib.parse import urlencode

        to += ("&" if "?" in to else "?") + urlencode({"flash": flash[:300]})
    return RedirectResponse(to, status_code=303)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


class ConsoleRoute(APIRoute):
    """A console route answers in HTML: no session → the login page; a domain refusal → an
    error page with the domain's status and its 中文/English message."""

    def get_route_handler(self) -> Callable:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except NeedLogin:
                if request.method == "GET" and not request.url.path.startswith("/live"):
                    return RedirectResponse("/login?next=" + request.url.path, status_code=303)
                return render(request, None, "error.html", status=401, title=("请先登录", "please log in"),
                              message=("会话无效或已过期", "no valid session"))
            except FenghuoError as exc:
                from starlette.concurrency import run_in_threadpool

                try:  # the page around the refusal still shows who is logged in (and the way back)
                    who = await run_in_threadpool(viewer, request)
                except (NeedLogin, FenghuoError):
                    who = None
                return render(request, who, "error.html", status=exc.status,
                              title=({403: "无权操作", 404: "未找到", 409: "当前不能执行", 422: "输入有误"}.get(exc.status, "请求被拒绝"),
                                     {403: "forbidden", 404: "not found", 409: "not possible now", 422: "invalid input"}.get(exc.status, "refused")),
                              message=(exc.zh, exc.en), code=exc.code, details=exc.details)

        return handler
