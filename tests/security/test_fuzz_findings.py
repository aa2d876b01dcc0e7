"""What the API fuzzer (``tests/security/fuzz_api.py``, ``make fuzz``) found answering 500, one
test per finding, over real HTTP on SQLite and PostgreSQL (PostgreSQL refuses more: NUL bytes in
text, strings longer than their VARCHAR, integers past the column's range). Each answer must be
a 4xx naming the field, and nothing of the refused request may have been written."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.conftest import database_maker, isolate_home
from tests.foundation.fixtures import ADMIN, seed


@contextmanager
def serving(db):
    """The seeded registry behind a real server; ``call(method, path, who, ...)`` sends a request
    with the token of ``who`` (``call.db``, ``call.tokens`` for the checks after it)."""
    seed(db)
    tokens = {
        "admin": create_token(db, ADMIN, "root", Role.admin),
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
    }
    settings = Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who="admin", **kw):
            headers = {"Authorization": f"Bearer {tokens[who]}", **kw.pop("headers", {})}
            return http.request(method, path, headers=headers, **kw)
        call.db, call.tokens = db, tokens
        yield call


@pytest.fixture
def api(db):
    """A server of the test's own, for the tests whose request is meant to write something."""
    with serving(db) as call:
        yield call


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def refusing_api(request, tmp_path_factory):
    """One server per backend for the tests below whose every request is refused and which
    check that nothing was written (counted before and after, or read back as empty): they
    share it instead of migrating, seeding and starting a server each (~90 of this file's
    115 tests; ~1 s each under make test's load). A refusal that wrongly wrote would still fail
    its own test, since each compares the state after its request with what it was before."""
    root = tmp_path_factory.mktemp("fuzz-shared")
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        isolate_home(mp, root / "home")
        db = stack.enter_context(database_maker(request.param, lambda _n: root / "fenghuo.db"))(ManualClock())
        yield stack.enter_context(serving(db))


def refused(r, field: str, status: int = 422) -> dict:
    """``r`` is the 4xx the fuzz finding should have been, naming ``field`` (in its message or as its field)."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert field in err["message"] or err.get("field") == field, err
    return err


def test_ledger_after_past_64_bits(api):
    """GET /api/v1/ledger?after=44485539584223121244160: PostgreSQL's bigint (and SQLite's
    driver) could not bind it."""
    refused(api("GET", "/api/v1/ledger", params={"after": 2**70}), "after")
    assert api("GET", "/api/v1/ledger", params={"after": 2**63 - 1}).json() == []


def ledger_len(db) -> int:
    from fenghuo.ledger import store

    with db.reader() as s:
        return store.count(s)


def switch_state(db, service: str) -> str:
    from fenghuo.control.models import SwitchState

    with db.reader() as s:
        return s.get(SwitchState, service).state


@pytest.mark.parametrize(("path", "body", "field"), [
    # the fuzzer's two: PostgreSQL refused the NUL in the note / user id (a 500 there)
    ("/api/v1/services/a-chat/model", {"version": "2026.12-1", "important": True, "note": "bad\x00note"}, "note"),
    ("/api/v1/services/a-chat/user-measures", {"user": "u\x00", "measure": "warn", "reason": "r"}, "user"),
    ("/api/v1/services/a-chat/commands", {"action": "pause", "reason": "why\x00"}, "reason"),
    ("/api/v1/incidents", {"service": "a-chat", "grade": "IV", "title": "t", "flags": ["a\x00"]}, "flags"),
    ("/api/v1/complaints", {"service": "a-chat", "category": "complaint", "content": "c\x00"}, "content"),
    ("/api/v1/instances/ack", {"instance": "g-1", "service": "a-chat", "version": 1, "state": "running",
                               "meta": {"host": "h\x00"}}, "meta"),
    ("/api/v1/services/a-chat/label-waivers", {"user": "u", "request": "r\x00", "agreement": "a", "recipient": "x"}, "request"),
])
def test_nul_in_a_body_is_refused_by_name_and_writes_nothing(refusing_api, path, body, field):
    before = ledger_len(refusing_api.db)
    err = refused(refusing_api("POST", path, json=body), field)
    assert "NUL" in err["message"]
    assert ledger_len(refusing_api.db) == before
    assert switch_state(refusing_api.db, "a-chat") == "running"
    assert refusing_api("GET", "/api/v1/services/a-chat/model").json()["pending"] in (None, [])


def test_nul_in_a_query_or_path_is_refused_by_name(refusing_api):
    """``?sector=a%00``: PostgreSQL refuses to compare a column with text holding NUL."""
    err = refused(refusing_api("GET", "/api/v1/services", params={"sector": "a\x00"}), "sector")
    assert err["field"] == "sector"
    refused(refusing_api("GET", "/api/v1/ledger", params={"subject": "\x00"}), "subject")
    assert refused(refusing_api("GET", "/api/v1/services/a%00chat"), "path")["field"] == "path"
    assert refusing_api("GET", "/api/v1/services", params={"sector": "general"}).status_code == 200


@pytest.mark.parametrize("number", [b"1e999", b"-Infinity", b"NaN"])
def test_a_number_json_cannot_hold_is_refused_by_name(refusing_api, number):
    """Python's JSON reader makes inf/NaN of these; stored, the incident could not be answered
    (nor written to PostgreSQL's JSON)."""
    body = b'{"service": "a-chat", "grade": "IV", "title": "t", "impact": {"pi_persons": ' + number + b"}}"
    refused(refusing_api("POST", "/api/v1/incidents", content=body, headers={"content-type": "application/json"}), "impact")
    assert refusing_api("GET", "/api/v1/incidents").json() == []


@pytest.mark.parametrize("expires_in", ["99999999999999d", "infd", "nand", "1e400s"])
def test_token_expiry_past_any_date_is_refused(refusing_api, expires_in):
    """Found probing the fuzzer's class of input: now + 10**14 days is no date (OverflowError, a 500)."""
    refused(refusing_api("POST", "/api/v1/tokens", json={"name": "later", "role": "auditor", "expires_in": expires_in}), "expires_in")
    assert "later" not in [t["name"] for t in refusing_api("GET", "/api/v1/tokens").json()]


def test_token_name_fits_the_ledger_subject(api):
    """``token:<name>`` is the ledger's subject (128): a 200-character name failed on PostgreSQL."""
    refused(api("POST", "/api/v1/tokens", json={"name": "n" * 150, "role": "auditor"}), "name")
    assert api("POST", "/api/v1/tokens", json={"name": "n" * 100, "role": "auditor"}).status_code == 200


def test_registration_names_fit_their_columns(api):
    svc = {"id": "z-chat", "name": "Z" * 201, "provider": "pa", "sector": "general", "function": "content_generation",
           "modalities": ["text"], "reach": 1, "no_human_in_loop": False}
    refused(api("POST", "/api/v1/services", json=svc), "name")
    refused(api("POST", "/api/v1/services", json={"jurisdictions": [{"id": "j1", "name": "J" * 201, "level": "city",
                                                                        "parent": "cn"}]}), "jurisdictions.0.name")
    yaml = 'services:\n  - {id: z-chat, name: "Z\\0chat", provider: pa, sector: general, function: content_generation,' \
           " modalities: [text], reach: 1, no_human_in_loop: false}\n"
    refused(api("POST", "/api/v1/services", content=yaml.encode(), headers={"content-type": "application/yaml"}), "name")
    assert api("GET", "/api/v1/services/z-chat").status_code == 404


def test_jurisdiction_chain_longer_than_its_path_column(api):
    chain = [{"id": f"{'x' * 60}{i}", "name": "n", "level": "city", "parent": f"{'x' * 60}{i - 1}" if i else "cn"}
             for i in range(20)]
    err = refused(api("POST", "/api/v1/services", json={"jurisdictions": chain}), "path exceeds")
    assert err["field"] == "parent"
    assert api("GET", "/api/v1/services", params={"jurisdiction": chain[0]["id"]}).json() == []


def test_regulator_order_reference_is_checked_before_the_pause(api):
    """An order reference past 80 characters could not be the incident's link (PostgreSQL: a
    500) — after the pause had been taken, so the pause stood without its incident."""
    refused(api("POST", "/api/v1/services/a-chat/orders", "reg_bj", json={"reason": "r", "order": "o" * 100}), "order")
    assert switch_state(api.db, "a-chat") == "running"
    assert api("GET", "/api/v1/incidents").json() == []
    r = api("POST", "/api/v1/services/a-chat/orders", "reg_bj", json={"reason": "r", "order": "o" * 58})
    assert r.status_code == 200, r.text


def test_model_version_fits_its_column(api):
    refused(api("POST", "/api/v1/services/a-chat/model", json={"version": "v" * 129}), "version")
    assert api("GET", "/api/v1/services/a-chat/model").json()["pending"] in (None, [])


def test_recovery_hold_fits_its_column(api):
    assert api("POST", "/api/v1/services/a-chat/commands", json={"action": "pause", "reason": "r"}).status_code == 200
    for hold in (2**40, 2**70, -1):
        refused(api("POST", "/api/v1/services/a-chat/recovery", json={"hold_seconds": hold}), "hold_seconds")
    assert api("GET", "/api/v1/services/a-chat/recovery").json()["procedure"] is None
    assert api("POST", "/api/v1/services/a-chat/recovery", json={"hold_seconds": 3600}).status_code == 200


def test_every_json_body_refuses_what_no_database_stores():
    """The NUL findings were one class: a body model that let NUL (or NaN) through to the
    database. Every JSON body of the app derives from ``platform.inputs.Body``, so a new route
    cannot bring the class back."""
    import importlib

    from fastapi.routing import APIRoute

    from fenghuo.api.app import ROUTE_MODULES
    from fenghuo.platform.inputs import Body

    routes = [r for name in ROUTE_MODULES for r in importlib.import_module(name).router.routes if isinstance(r, APIRoute)]
    bodies = {(r.path, p.field_info.annotation) for r in routes for p in r.dependant.body_params}
    assert len(bodies) > 20
    loose = sorted(f"{path}: {t}" for path, t in bodies if not any(isinstance(c, type) and issubclass(c, Body)
                                                                   for c in (t, *getattr(t, "__args__", ()))))
    assert loose == []


def _cursor(values) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("values", [[2**70, "x"], [-(2**70), "x"], ["\x00", "x"], ["2026-12-05", 7]])
@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/warnings", "/api/v1/tokens", "/api/v1/complaints",
                                  "/api/v1/silences", "/api/v1/notifications", "/api/v1/plan-actions", "/api/v1/commands/pending"])
def test_a_forged_cursor_is_refused_by_name(refusing_api, path, values):
    """A cursor is opaque base64 JSON, but a client can write one: an integer past 64 bits (a
    500 on both backends), NUL (PostgreSQL) or a number for a text column (PostgreSQL will not
    compare them) reached the keyset query."""
    err = refused(refusing_api("GET", path, params={"after": _cursor(values)}), "after")
    assert err["field"] == "after"


def test_a_console_form_with_nul_is_refused_by_name(api):
    """The console's forms are not in the OpenAPI schema the fuzzer reads, but reach the same
    tables: a NUL in a command's reason was a 500 on PostgreSQL (and stored on SQLite)."""
    import re

    url = str(api("GET", "/api/v1/health").url).removesuffix("/api/v1/health")
    with httpx.Client(base_url=url, timeout=10) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        assert c.post("/login", data={"token": api.tokens["admin"], "csrf": csrf, "next": "/"}).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/services/a-chat").text).group(1)
        r = c.post("/services/a-chat/command", data={"csrf": csrf, "action": "pause", "reason": "a\x00b", "id": "console-t1"},
                   headers={"origin": url})
        assert r.status_code == 422 and "reason" in r.text, r.text
    assert switch_state(api.db, "a-chat") == "running"


def test_free_form_json_nested_past_the_limit_is_refused(api):
    """An instance's meta 900 levels deep was accepted, stored, and from then on its service's
    enforcement answer and the instance listing were 500s (too deep to serialise)."""
    deep: dict = {"host": "h"}
    for _ in range(900):
        deep = {"a": deep}
    ack = {"instance": "g-deep", "service": "a-chat", "version": 1, "state": "running", "meta": deep}
    refused(api("POST", "/api/v1/instances/ack", json=ack), "meta")
    assert api("GET", "/api/v1/services/a-chat/enforcement").status_code == 200
    assert api("GET", "/api/v1/instances").status_code == 200
    flat = {**ack, "meta": {"host": "h", "pid": 1, "kind": "sdk"}}
    assert api("POST", "/api/v1/instances/ack", json=flat).status_code == 200
    evidence = {"kind": "rules", "description": "d", "evidence": {"x": deep}}
    refused(api("POST", "/api/v1/services/a-chat/recovery/remediations", json=evidence), "evidence")


def test_a_nats_acknowledgement_is_held_to_the_same_meta(db):
    """The same meta over NATS (``scale.acks`` calls the book directly) is refused in the book."""
    from fenghuo.control.instances import InstanceBook
    from fenghuo.platform.errors import Invalid

    seed(db)
    book = InstanceBook(db, flush_seconds=0)
    deep: list = []
    for _ in range(40):
        deep = [deep]
    for meta in ({"host": "h\x00"}, {"load": float("nan")}, {"deep": deep}):
        with pytest.raises(Invalid) as err:
            book.ack(ADMIN, {"instance": "g-1", "service": "a-chat", "version": 1, "state": "running", "meta": meta})
        assert err.value.details["field"] == "meta"
    assert book.enforcement(ADMIN, "a-chat")["live"] == []
