"""Turn every refusal into the same JSON shape: ``{"error": {"code", "message", …}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from fenghuo.platform.errors import FenghuoError, Unavailable

log = logging.getLogger(__name__)

# The database cannot be reached or used right now (server down, connection dropped, pool
# exhausted, SQLite locked past its busy timeout): the client should come back, not read a 500.
# Nothing was acknowledged — the transaction did not commit (issue 14).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def install(app: FastAPI) -> None:
    @app.exception_handler(FenghuoError)
    async def _fenghuo(_: Request, exc: FenghuoError) -> JSONResponse:
        retry = getattr(exc, "retry_after", None)  # 429 and 503 say when to come back
        headers = {"Retry-After": str(max(1, round(retry)))} if retry else None
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=headers)

    async def _database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        down = Unavailable("数据库暂不可用，请稍后重试", "database unavailable, try again later", code="database_unavailable")
        return JSONResponse({"error": down.to_dict()}, status_code=503, headers={"Retry-After": str(down.retry_after)})

    for cls in DATABASE_DOWN:
        app.add_exception_handler(cls, _database_down)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]} for e in exc.errors()]
        first = problems[0] if problems else {"field": "", "problem": "invalid request"}
        return JSONResponse({"error": {
            "code": "invalid",
            "message": f"请求无效：字段 {first['field']}：{first['problem']} / invalid request: field {first['field']}: {first['problem']}",
            "problems": problems,
        }}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "未找到", 405: "方法不允许"}.get(exc.status_code, "请求错误")
        return JSONResponse({"error": {"code": f"http_{exc.status_code}", "message": f"{zh} / {exc.detail}"}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
