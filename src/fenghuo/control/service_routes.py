"""HTTP routes of the registry: register (JSON or YAML), list and show services (with their
switch state, hence in ``control``: see ``control.services``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from fenghuo.control import services as registry
from fenghuo.control.views import Registered, ServiceView
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.registry.spec import RegistrationFile, ServiceSpec, parse_registration

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.post("/services", response_model=Registered, **CONTRACT)
async def register(request: Request, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """Body: a registration as YAML (``application/yaml``, errors name the line) or JSON —
    one service, or ``{jurisdictions, providers, services}``."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("请求体不是 UTF-8", "request body is not UTF-8") from None
    ctype = request.headers.get("content-type", "")
    if "yaml" in ctype:
        reg = parse_registration(text, "<request>")
    else:
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise Invalid(f"请求体不是有效 JSON：{exc}", f"request body is not valid JSON: {exc}") from None
        try:
            if isinstance(data, dict) and {"jurisdictions", "providers", "services"} & set(data):
                reg = RegistrationFile.model_validate(data)
            else:
                reg = RegistrationFile(services=[ServiceSpec.model_validate(data)])
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise Invalid(f"字段 {field}：{err['msg']}", f"field {field}: {err['msg']}", field=field,
                          problems=[{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]) from None
    from starlette.concurrency import run_in_threadpool

    return {"results": await run_in_threadpool(registry.register, db, actor, reg)}


@router.get("/services", response_model=list[ServiceView], **CONTRACT)
def list_services(sector: str | None = None, grade: str | None = None, provider: str | None = None,
                  actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    return registry.list_services(db, actor, sector=sector, grade=grade, provider=provider)


@router.get("/services/{service_id}", response_model=ServiceView, **CONTRACT)
def show(service_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return registry.get(db, actor, service_id)
