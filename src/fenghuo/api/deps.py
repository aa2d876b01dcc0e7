"""Request dependencies: the database and the acting person, from the bearer token."""

from __future__ import annotations

from fastapi import Request

from fenghuo.platform.auth import Actor, authenticate
from fenghuo.platform.db import Database


def get_db(request: Request) -> Database:
    return request.app.state.db


def current_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return authenticate(request.app.state.db, token)
