"""CN-LB-18 (issue 18): content without the explicit label only at a user's request, under the
user agreement, with a log of the request, the agreement and the recipient kept ≥ 6 months.

A waiver is refused without each of those (a bilingual error naming the one missing), is kept in
its table with a ledger entry, listed a page at a time (API and CLI), shown by ``retention
status``; ``fenghuo gateway --no-label`` does not start without a recorded waiver of its service,
and a gateway serving unlabelled names the waiver on every call event."""

from __future__ import annotations

import json

import httpx
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, select

from fenghuo.cli import root
from fenghuo.control import services as registry
from fenghuo.guard import label_waivers
from fenghuo.guard.labels import LabelConfig
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.errors import Invalid
from fenghuo.platform.migrate import config
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token
from fenghuo.retention import status as retention

from .helpers import REGISTRY

FULL = {"user": "u-42", "request": "ticket 881: 'send the text without the AI notice, we label it in our app'",
        "agreement": "用户协议 v3 第 7.2 条（用户自行标识）/ ToS v3 §7.2", "recipient": "Acme Publishing Ltd (api key ak-7)"}
OTHER = """
providers:
  - {id: pb, name: Provider B, jurisdiction: cn}
"""


@pytest.fixture
def ops(cp_db):
    registry.register(cp_db, local_actor(), parse_registration(OTHER))
    return {n: create_token(cp_db, local_actor(), n, Role.operator, provider_id=p) for n, p in (("op-a", "pa"), ("op-b", "pb"))}


def post(control, tok, body, service="open-chat") -> httpx.Response:
    return httpx.post(f"{control.url}/api/v1/services/{service}/label-waivers", json=body,
                      headers={"Authorization": f"Bearer {tok}"}, timeout=10)


def get(control, tok, path, **params) -> httpx.Response:
    return httpx.get(f"{control.url}{path}", params=params, headers={"Authorization": f"Bearer {tok}"}, timeout=10)


@pytest.mark.parametrize(("missing", "zh"), [("user", "用户"), ("request", "请求"), ("agreement", "用户协议"), ("recipient", "接收方")])
def test_a_waiver_without_each_field_is_refused_naming_it(control, ops, missing, zh):
    r = post(control, ops["op-a"], {**FULL, missing: "  "})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == missing and err["code"] == "waiver_incomplete"
    assert zh in err["message"] and missing in err["message"] and "CN-LB-18" in err["message"]
    assert get(control, ops["op-a"], "/api/v1/label-waivers").json() == []  # nothing recorded


def test_recorded_in_the_ledger_listed_by_page_and_scope(control, ops, cp_db):
    ids = []
    for i in range(3):
        r = post(control, ops["op-a"], {**FULL, "user": f"u-{i}"})
        assert r.status_code == 200, r.text
        w = r.json()
        assert (w["service"], w["recipient"], w["agreement"]) == ("open-chat", FULL["recipient"], FULL["agreement"])
        ids.append(w["id"])
    with cp_db.reader() as s:
        entries = s.execute(select(LedgerEntry).where(LedgerEntry.kind == "label.waiver.recorded").order_by(LedgerEntry.seq)).scalars().all()
    payloads = [json.loads(e.payload) for e in entries]
    assert [p["waiver"] for p in payloads] == ids and payloads[0]["recipient"] == FULL["recipient"]
    assert all(e.subject == "open-chat" for e in entries)

    first = get(control, ops["op-a"], "/api/v1/label-waivers", limit=2)
    assert [w["id"] for w in first.json()] == ids[:2] and first.headers["X-Next-Cursor"] == ids[1]
    rest = get(control, ops["op-a"], "/api/v1/label-waivers", limit=2, after=first.headers["X-Next-Cursor"])
    assert [w["id"] for w in rest.json()] == ids[2:] and "X-Next-Cursor" not in rest.headers
    assert [w["user"] for w in get(control, ops["op-a"], "/api/v1/services/open-chat/label-waivers").json()] == ["u-0", "u-1", "u-2"]
    assert get(control, ops["op-a"], f"/api/v1/label-waivers/{ids[0]}").json()["user"] == "u-0"
    # another provider's operator neither sees nor records them
    assert get(control, ops["op-b"], "/api/v1/label-waivers").json() == []
    assert get(control, ops["op-b"], "/api/v1/services/open-chat/label-waivers").status_code == 403
    assert post(control, ops["op-b"], FULL).status_code == 403
    assert get(control, ops["op-a"], "/api/v1/label-waivers", limit=0).status_code == 422


def test_cli_waive_and_waivers(cp_db, tmp_path):
    db = str(tmp_path / "cp.db")

    def run(*args):
        return CliRunner().invoke(root, ["--db", db, *args], catch_exceptions=False)

    r = run("label", "waive", "open-chat", "--user", "u-1", "--request", "r-9", "--recipient", "Acme", "--json")
    assert r.exit_code == 1 and "agreement" in r.output + r.stderr and "用户协议" in r.output + r.stderr
    r = run("label", "waive", "open-chat", "--user", "u-1", "--request", "r-9", "--agreement", "ToS §7", "--recipient", "Acme", "--json")
    assert r.exit_code == 0, r.output
    wid = json.loads(r.output)["id"]
    r = run("label", "waivers", "--json")
    assert r.exit_code == 0 and [w["id"] for w in json.loads(r.output)] == [wid]
    r = run("label", "waivers", "open-chat")
    assert r.exit_code == 0 and "Acme" in r.output


def test_gateway_no_label_needs_a_recorded_waiver_of_its_service(cp_db, tmp_path):
    db = str(tmp_path / "cp.db")

    def gateway(*extra):
        return CliRunner().invoke(root, ["--db", db, "gateway", "--service", "open-chat", "--upstream", "http://127.0.0.1:9",
                                         "--checks", "none", "--no-label", *extra])

    r = gateway()
    assert r.exit_code != 0 and "--label-waiver" in r.output and "CN-LB-18" in r.output
    r = gateway("--label-waiver", "no-such-waiver")
    assert r.exit_code != 0 and "no-such-waiver" in r.output
    other = label_waivers.record(cp_db, local_actor(), "closed-med", **FULL)
    r = gateway("--label-waiver", other["id"])
    assert r.exit_code != 0 and "closed-med" in r.output
    ok = label_waivers.record(cp_db, local_actor(), "open-chat", **FULL)
    assert label_waivers.check_for_guard("open-chat", ok["id"], db=cp_db)["recipient"] == FULL["recipient"]
    with pytest.raises(ValueError, match="--label-waiver"):
        label_waivers.check_for_guard("open-chat", None, db=cp_db)


def test_unlabelled_calls_name_their_waiver_and_control_mode_checks_it(control, token, cp_db, gateway_to, upstream, receiver):
    w = label_waivers.record(cp_db, local_actor(), "open-chat", **FULL)
    assert label_waivers.check_for_guard("open-chat", w["id"], control=control.url, token=token)["id"] == w["id"]
    with pytest.raises(ValueError, match="cannot be confirmed"):
        label_waivers.check_for_guard("open-chat", "nope", control=control.url, token=token)
    gw, srv = gateway_to(upstream.url, labels=LabelConfig(enabled=False, waiver=w["id"]))
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "你好"}]}, timeout=10)
    assert r.status_code == 200 and "人工智能生成" not in r.json()["choices"][0]["message"]["content"]
    assert r.json()["AIGC"]["Label"] == "1"  # the implicit label is written all the same
    gw.guard.telemetry.flush(5)
    ev = [e for e in receiver.app.state.events if e["status"] == "ok"][-1]
    assert ev["label"] is False and ev["attributes"]["label_waiver"] == w["id"]


def test_retention_status_lists_the_waivers(cp_db, tmp_path):
    label_waivers.record(cp_db, local_actor(), "open-chat", **FULL)
    rows = {r["store"]: r for r in retention.status(cp_db, tmp_path)["stores"]}
    row = rows["label waivers (unlabelled content, CN-LB-18)"]
    assert row["records"] == 1 and row["ok"] and row["kept"].startswith("forever")


def test_validate_names_a_field_too_long():
    with pytest.raises(Invalid) as e:
        label_waivers.validate({**FULL, "recipient": "x" * 513})
    assert e.value.details["field"] == "recipient"
    with pytest.raises(Invalid) as e:
        label_waivers.validate({**FULL, "agreement": "ToS\x00"})
    assert e.value.details["field"] == "agreement"


def test_migration_up_down_up_and_store(db_factory):
    db = db_factory()
    registry.register(db, local_actor(), parse_registration(REGISTRY))
    label_waivers.record(db, local_actor(), "open-chat", **FULL)
    assert len(label_waivers.page(db, local_actor())[0]) == 1
    cfg = config()

    def run(fn, revision):
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            fn(cfg, revision)

    run(command.downgrade, "0016_telemetry_summaries")
    assert "label_waivers" not in inspect(db.engine).get_table_names(schema=db_factory.schema)
    run(command.upgrade, "head")
    assert "label_waivers" in inspect(db.engine).get_table_names(schema=db_factory.schema)
    label_waivers.record(db, local_actor(), "open-chat", **FULL)
    assert len(label_waivers.page(db, local_actor())[0]) == 1
