"""Web plumbing every domain's routes use: the database and the acting person (from the bearer
token) as FastAPI dependencies. It lives in platform, not in api/, so a domain's routes never
import the app that mounts them."""

from __future__ import annotations

from fastapi import Request

from fenghuo.platform.auth import authenticate
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Actor, Role

SCRAPE_PATHS = frozenset({"/metrics"})  # all a scraper token may read


def get_db(request: Request) -> Database:
    return request.app.state.runtime.db  # fenghuo.api.runtime (A2)


def current_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    actor = authenticate(request.app.state.runtime.db, token)
    if actor.role is Role.scraper and request.url.path not in SCRAPE_PATHS:
        raise Forbidden("抓取令牌只能读取 /metrics", "a scraper token may read /metrics only")
    return actor
