"""HTTP routes of the registry: register (JSON or YAML), list and show services (with their
switch state, hence in ``control``: see ``control.services``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from fenghuo.control import listing
from fenghuo.control import services as registry
from fenghuo.control.views import Registered, ServiceView
from fenghuo.platform.db import Database
from fenghuo.platform.documents import load_json
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, raw_body
from fenghuo.platform.web import current_actor, get_db
from fenghuo.platform.yamlfile import YamlDoc
from fenghuo.registry.spec import RegistrationFile, ServiceSpec, parse_registration, unique_ids

router = APIRouter(prefix="/api/v1", tags=["registry"])


# Who may send a registration at all (``services._put_service`` and ``_require_admin`` decide
# the rest): checked before the body is read, so a token that may not register never gets a
# document parsed on its behalf (issue 14: an auditor's bomb used to be parsed first).
REGISTRANTS = (Role.admin, Role.operator)


def _parse_body(raw: bytes, yaml_body: bool) -> RegistrationFile:
    """The body through the one bounded reader (``platform.documents``), off the event loop."""
    if yaml_body:
        return parse_registration(raw, "<request>")
    data = load_json(raw, "<request>")
    try:
        if isinstance(data, dict) and {"jurisdictions", "providers", "services"} & set(data):
            reg = unique_ids(RegistrationFile.model_validate(data), YamlDoc("<request>", data))
        else:
            reg = RegistrationFile(services=[ServiceSpec.model_validate(data)])
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"字段 {field}：{err['msg']}", f"field {field}: {err['msg']}", field=field,
                      problems=[{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]) from None
    return reg


@router.post("/services", response_model=Registered, **CONTRACT,
             openapi_extra=raw_body(**{"application/json": {"type": "object"}, "application/yaml": {"type": "string"}}))
async def register(request: Request, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """Body: a registration as YAML (``application/yaml``, errors name the line) or JSON —
    one service, or ``{jurisdictions, providers, services}``."""
    if actor.role not in REGISTRANTS:
        raise Forbidden(f"角色 {actor.role.value} 不能登记服务", f"role {actor.role.value} may not register services")
    raw = await request.body()
    reg = await run_in_threadpool(_parse_body, raw, "yaml" in request.headers.get("content-type", ""))
    return {"results": await run_in_threadpool(registry.register, db, actor, reg)}


@router.get("/services", response_model=list[ServiceView], **CONTRACT)
def list_services(response: Response, sector: str | None = None, grade: str | None = None, provider: str | None = None,
                  jurisdiction: str | None = None, state: str | None = None,
                  after: str | None = Query(None, description="the last id of the previous page (its X-Next-Cursor)"),
                  limit: int = Query(listing.DEFAULT_LIMIT, ge=1, le=listing.MAX_LIMIT),
                  actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """One page of services in id order, filtered in the database. When there are more, the
    ``X-Next-Cursor`` header (and ``Link: <…>; rel="next"``) names the ``after`` of the next page."""
    f = listing.ServiceFilter(sector=sector, grade=grade, provider=provider, jurisdiction=jurisdiction, state=state)
    page = listing.service_page(db, actor, f, after=after, limit=limit)
    if page.next:
        response.headers["X-Next-Cursor"] = page.next
        query = urlencode({k: v for k, v in {**asdict(f), "limit": limit, "after": page.next}.items() if v})
        response.headers["Link"] = f'</api/v1/services?{query}>; rel="next"'
    return page.items


@router.get("/services/{service_id}", response_model=ServiceView, **CONTRACT)
def show(service_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return registry.get(db, actor, service_id)
