"""Route contracts (issue 13): every route documents its successful answer in the OpenAPI
schema — a response model for JSON answers, a media type for streams and text — so the console,
the CLI client and fuzzing can all read it."""

from __future__ import annotations

from fenghuo.api.app import create_app
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database


def _schema_of(spec: dict, schema: dict) -> dict:
    """Follow one $ref (and an array's items) to the schema that names the fields."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref")
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def test_every_route_documents_a_non_empty_success_schema(tmp_path):
    spec = create_app(Settings(checkpoint_seconds=0), Database(str(tmp_path / "x.db"))).openapi()
    missing, routes = [], 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            routes += 1
            ok = {code: r for code, r in op.get("responses", {}).items() if code.startswith("2")}
            schemas = [m.get("schema") or {} for r in ok.values() for m in r.get("content", {}).values()]
            named = [s for s in (_schema_of(spec, x) for x in schemas)
                     if s.get("properties") or s.get("type") == "string"]
            # a bare object with additionalProperties is a dict[str, Any]: documents nothing
            if not named:
                missing.append(f"{method.upper()} {path}")
    assert routes >= 44
    assert not missing, f"routes without a documented 2xx schema: {missing}"


def test_json_answers_name_their_fields(tmp_path):
    spec = create_app(Settings(checkpoint_seconds=0), Database(str(tmp_path / "x.db"))).openapi()
    ok = spec["paths"]["/api/v1/services/{service_id}/commands"]["post"]["responses"]
    command = _schema_of(spec, ok["200"]["content"]["application/json"]["schema"])
    assert {"command", "service", "action", "status", "from", "to", "approvals"} <= set(command["properties"])
    assert "202" in ok  # awaiting approval
    warning = _schema_of(spec, spec["paths"]["/api/v1/warnings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"id", "level", "state", "started_at", "ack"} <= set(warning["properties"])
