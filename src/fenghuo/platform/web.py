"""Web plumbing every domain's routes use: the database and the acting person (from the bearer
token) as FastAPI dependencies. It lives in platform, not in api/, so a domain's routes never
import the app that mounts them."""

from __future__ import annotations

from fastapi import Request

from fenghuo.platform.auth import authenticate
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Unauthorized
from fenghuo.platform.roles import Actor, Role

SCRAPE_PATHS = frozenset({"/metrics"})  # all a scraper token may read
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that change nothing (they check what they are sent): the only writes an auditor may send.
READ_ONLY_POSTS = frozenset({"/api/v1/rules/check"})


def get_db(request: Request) -> Database:
    return request.app.state.runtime.db  # fenghuo.api.runtime (A2)


def current_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return actor_for_token(request, token, write=request.method not in READ_METHODS)


def actor_for_token(request: Request, token: str | None, *, write: bool) -> Actor:
    """The acting person for ``token`` with every rule of the bearer check: the per-address
    failure limit, an auditor that sends no write, a scraper that reads only /metrics. The
    console calls it with its session cookie's token, so both doors apply the same rules."""
    runtime = request.app.state.runtime
    failures = getattr(runtime, "auth_failures", None)  # platform.auth_failures.AuthFailures
    address = request.client.host if request.client else "-"
    if failures is not None:
        failures.check(address)  # 429 before the token is looked up
    try:
        actor = authenticate(runtime.db, token)
    except Unauthorized:
        if failures is not None and token:  # a guess; a request with no token guesses nothing
            failures.failed(address)
        raise
    if actor.role is Role.auditor and write and request.url.path not in READ_ONLY_POSTS:
        raise Forbidden("审计员只能查看，不能修改任何内容", "an auditor reads but may change nothing")
    if actor.role is Role.scraper and request.url.path not in SCRAPE_PATHS:
        raise Forbidden("抓取令牌只能读取 /metrics", "a scraper token may read /metrics only")
    return actor
