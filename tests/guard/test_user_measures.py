"""Per-user measures (issue 18 item 9, CN-PO-09) through a real control plane and gateway: an
operator suspends, restricts or warns one end user, the gateway enforces it within about a
second for that user only, a lift restores service, every step is in the ledger, and the
switch's scope rules hold (another provider's operator: 403; an auditor reads only)."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from fenghuo.control import services as registry
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token

from .helpers import wait_for

MSG = [{"role": "user", "content": "你好"}]
OTHER = """
providers:
  - {id: pb, name: Provider B, jurisdiction: cn}
"""


def client(srv, user_header: str | None = None) -> openai.OpenAI:
    headers = {"x-fenghuo-user": user_header} if user_header else None
    return openai.OpenAI(base_url=f"{srv.url}/v1", api_key="k", max_retries=0, default_headers=headers)


def ask(srv, user: str | None = None, header: str | None = None):
    kw = {"user": user} if user else {}
    return client(srv, header).chat.completions.with_raw_response.create(model="m", messages=MSG, **kw)


@pytest.fixture
def tokens(cp_db):
    registry.register(cp_db, local_actor(), parse_registration(OTHER))
    return {name: create_token(cp_db, local_actor(), name, role, provider_id=prov)
            for name, role, prov in (("op-a", Role.operator, "pa"), ("op-b", Role.operator, "pb"),
                                     ("aud-a", Role.auditor, "pa"))}


def api(control, tok: str, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{control.url}/api/v1/services/open-chat/{path}", headers={"Authorization": f"Bearer {tok}"},
                         timeout=10, **kw)


def applied(control, tok, gw, **body) -> dict:
    r = api(control, tok, "POST", "user-measures", json={"reason": "test", **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_suspend_restrict_warn_lift(control, make_gateway, receiver, tokens, cp_db):
    gw, srv = make_gateway()
    assert ask(srv, "alice").status_code == 200
    assert not gw.guard.users.users  # no measures: the hot path looks nothing up

    # suspend alice: refused within about a second, bob unaffected
    t0 = time.monotonic()
    applied(control, tokens["op-a"], gw, user="alice", measure="suspend", reason="abuse report 42")
    assert wait_for(lambda: "alice" in gw.guard.users.users, timeout=3)
    assert time.monotonic() - t0 < 1.5
    with pytest.raises(openai.PermissionDeniedError) as e:
        ask(srv, "alice")
    assert e.value.status_code == 403
    assert e.value.body["code"] == "user_suspended" and "暂停" in e.value.body["message"]
    assert "abuse report" not in e.value.response.text  # the operator's reason stays in the ledger and events
    assert e.value.response.headers["x-should-retry"] == "false"
    with pytest.raises(openai.PermissionDeniedError):  # the header identifies the user too
        ask(srv, header="alice")
    assert ask(srv, "bob").status_code == 200
    assert ask(srv).status_code == 200  # no user id at all

    # restrict alice to 3 a minute: the 4th gets 429 with Retry-After
    applied(control, tokens["op-a"], gw, user="alice", measure="restrict", rate=3)
    assert wait_for(lambda: gw.guard.users.users.get("alice") and gw.guard.users.users["alice"].measure == "restrict", timeout=3)
    for _ in range(3):
        assert ask(srv, "alice").status_code == 200
    with pytest.raises(openai.RateLimitError) as e429:
        ask(srv, "alice")
    assert e429.value.body["code"] == "user_restricted"
    assert 1 <= int(e429.value.response.headers["retry-after"]) <= 60
    assert ask(srv, "bob").status_code == 200

    # warn: served, with the notice in a header and the body
    applied(control, tokens["op-a"], gw, user="alice", measure="warn")
    assert wait_for(lambda: gw.guard.users.users.get("alice") and gw.guard.users.users["alice"].measure == "warn", timeout=3)
    raw = ask(srv, "alice")
    assert raw.status_code == 200 and raw.headers["x-fenghuo-user-notice"] == "user_warned"
    assert raw.parse().model_extra["fenghuo"]["code"] == "user_warned"
    assert "x-fenghuo-user-notice" not in ask(srv, "bob").headers

    # lift: alice served as before
    r = api(control, tokens["op-a"], "POST", "user-measures/lift", json={"user": "alice", "reason": "resolved"})
    assert r.status_code == 200 and r.json()["lifted_by"]
    assert wait_for(lambda: not gw.guard.users.users, timeout=3)
    raw = ask(srv, "alice")
    assert raw.status_code == 200 and "x-fenghuo-user-notice" not in raw.headers

    # the ledger holds each step: who, which service, which user
    with cp_db.reader() as s:
        rows = s.query(LedgerEntry).filter(LedgerEntry.kind.like("user.measure.%")).order_by(LedgerEntry.seq).all()
    payloads = [json.loads(e.payload) for e in rows]
    got = [(e.kind, e.subject, p["user"], p["measure"]) for e, p in zip(rows, payloads, strict=True)]
    assert got == [("user.measure.applied", "open-chat", "alice", "suspend"), ("user.measure.applied", "open-chat", "alice", "restrict"),
                   ("user.measure.applied", "open-chat", "alice", "warn"), ("user.measure.lifted", "open-chat", "alice", "warn")]
    assert all(e.actor.startswith("operator:") for e in rows) and payloads[0]["reason"] == "abuse report 42"

    # the refusals are events like the switch's, with the operator's reason in the detail
    gw.guard.telemetry.flush(5)
    assert wait_for(lambda: sum(e.get("refusal") == "user" for e in receiver.app.state.events) >= 3)
    refused = [e for e in receiver.app.state.events if e.get("refusal") == "user"]
    assert refused[0]["status"] == "refused" and "abuse report 42" in refused[0]["detail"]


def test_measure_taken_before_the_guard_starts(control, make_gateway, tokens):
    """A guard that connects later gets the measures in force with its first snapshot."""
    applied(control, tokens["op-a"], None, user="gina", measure="suspend")
    gw, srv = make_gateway()
    assert wait_for(lambda: "gina" in gw.guard.users.users, timeout=3)
    with pytest.raises(openai.PermissionDeniedError):
        ask(srv, "gina")
    assert ask(srv, "hank").status_code == 200


def test_scope_and_validation(control, tokens):
    assert api(control, tokens["op-b"], "POST", "user-measures",
               json={"user": "alice", "measure": "suspend", "reason": "x"}).status_code == 403  # another provider's operator
    assert api(control, tokens["aud-a"], "POST", "user-measures",
               json={"user": "alice", "measure": "suspend", "reason": "x"}).status_code == 403  # auditors read only
    assert api(control, tokens["op-b"], "GET", "user-measures").status_code == 403
    assert api(control, tokens["op-a"], "POST", "user-measures", json={"user": "alice", "measure": "restrict", "reason": "x"}).status_code == 422
    assert api(control, tokens["op-a"], "POST", "user-measures", json={"user": "alice", "measure": "ban", "reason": "x"}).status_code == 422
    r = api(control, tokens["op-a"], "POST", "user-measures", json={"user": "alice", "measure": "suspend", "until": "1h", "reason": "x"})
    assert r.status_code == 200 and r.json()["until"]
    listed = api(control, tokens["aud-a"], "GET", "user-measures").json()["measures"]
    assert [(m["user"], m["measure"]) for m in listed] == [("alice", "suspend")]
    assert api(control, tokens["op-b"], "POST", "user-measures/lift", json={"user": "alice"}).status_code == 403
    assert api(control, tokens["op-a"], "POST", "user-measures/lift", json={"user": "bob"}).status_code == 404


def test_regulator_measure_needs_a_regulator_to_lift(control, cp_db, tokens):
    reg = create_token(cp_db, local_actor(), "reg", Role.regulator, jurisdiction_id="cn")
    assert api(control, reg, "POST", "user-measures", json={"user": "carol", "measure": "suspend", "reason": "order 7"}).status_code == 200
    r = api(control, tokens["op-a"], "POST", "user-measures/lift", json={"user": "carol"})
    assert r.status_code == 403 and "regulator" in r.text
    assert api(control, reg, "POST", "user-measures/lift", json={"user": "carol"}).status_code == 200


def test_expiry_is_enforced_at_the_guard():
    from fenghuo.guard.user_measures import UserTable

    now = [1000.0]
    table = UserTable(clock=lambda: now[0])
    table.replace([{"id": "1", "user": "u", "measure": "suspend", "until": "1970-01-01T00:20:00Z"}])  # 1200 s
    with pytest.raises(Exception, match="suspended"):
        table.check("u")
    now[0] = 1200.0
    assert table.check("u") is None


def test_sdk_embedded_guard_enforces_measures(cp_db):
    """No server: the SDK's embedded guard polls the local database; ``call(..., user=…)``."""
    from fenghuo.control import user_measures
    from fenghuo.guard.core import Guard
    from fenghuo.guard.errors import ServiceRefused

    g = Guard("open-chat", db=cp_db, checks=None, judge=None, sink=None, spool_dir=False, user_poll_seconds=0.1)
    try:
        assert g.wait_connected(5)
        user_measures.apply(cp_db, local_actor(), "open-chat", "dave", "suspend", "test")
        assert wait_for(lambda: "dave" in g.users.users, timeout=3)
        with pytest.raises(ServiceRefused) as e, g.call("你好", user="dave"):
            pass
        assert e.value.code == "user_suspended" and e.value.status == 403
        with g.call("你好", user="erin") as call:
            assert call.output("好的").startswith("好的")
    finally:
        g.close(timeout=1)


def test_cli_over_the_server_and_locally(control, tokens, tmp_path):
    from click.testing import CliRunner

    from fenghuo.cli import root

    runner = CliRunner()
    remote = ["--server", control.url, "--token", tokens["op-a"], "user-measure"]
    r = runner.invoke(root, [*remote, "apply", "open-chat", "frank", "--measure", "restrict", "--rate", "10", "--until", "2h",
                             "--reason", "spam", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["rate"] == 10
    r = runner.invoke(root, [*remote, "apply", "open-chat", "frank", "--measure", "warn", "--rate", "3", "--reason", "x"])
    assert r.exit_code != 0 and "rate" in r.output
    r = runner.invoke(root, ["--server", control.url, "--token", tokens["op-b"], "user-measure", "apply", "open-chat", "frank",
                             "--measure", "suspend", "--reason", "x"])
    assert r.exit_code != 0
    local = ["--db", str(tmp_path / "cp.db"), "user-measure"]
    r = runner.invoke(root, [*local, "list", "open-chat"], catch_exceptions=False)
    assert r.exit_code == 0 and "frank" in r.output and "restrict" in r.output
    assert runner.invoke(root, [*local, "lift", "open-chat", "frank", "--reason", "ok"], catch_exceptions=False).exit_code == 0
    r = runner.invoke(root, [*remote, "list", "open-chat", "--json"], catch_exceptions=False)
    assert json.loads(r.output)["measures"] == []
