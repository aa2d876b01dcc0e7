"""API start-up hook (LIFESPAN_HOOKS in api/app.py): install the recovery gate so the server's
switch asks the recovery procedure before any resume. The ramp itself is ticked by the
response executor's loop (``fenghuo.response.runtime``), one background loop for both."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.recovery.gate import install


@asynccontextmanager
async def lifespan(app: FastAPI):
    install()
    yield
