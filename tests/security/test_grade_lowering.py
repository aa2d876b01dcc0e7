"""Issue 14, item 2: an operator re-registered its own service with another jurisdiction,
sector and reach while a regulator's pause and an incident were open: the service left the
pausing regulator's sight (403), dropped from L3 to L1, its fail-safe turned open, resuming
needed one approval instead of two, and the incident report printed the new grade.

Now such a change is refused while a hold or an incident stands; otherwise it waits for a
regulator of the service's current jurisdiction; incidents keep the registry record they were
opened with."""

from __future__ import annotations

import json

import pytest

from fenghuo.control import gates, regrading, services, switch
from fenghuo.ledger import store
from fenghuo.platform.errors import Conflict, Forbidden, NotFound
from fenghuo.recovery.gate import install
from fenghuo.registry.spec import parse_registration
from fenghuo.response import incidents, reports
from tests.foundation.fixtures import ADMIN, OP_A, REG_BJ, REG_CN, REG_SH, seed

A_MED = ("{{id: a-med, name: A medical, provider: pa, sector: {sector}, function: decision_support, modalities: [text], "
         "reach: {reach}, no_human_in_loop: false, backup_model: a-med-small{extra}}}")
ORIGINAL = A_MED.format(sector="medical", reach=500000, extra="")
MOVED_DOWN = A_MED.format(sector="general", reach=100, extra=", jurisdiction: cn-sh")


@pytest.fixture(autouse=True)
def probe():
    install()  # the registry asks response about open incidents, as the server and CLI do
    yield
    gates.set_incident_probe(gates.StateIncident())
    gates.set_recovery_gate(gates.NoRecoveryYet())


@pytest.fixture
def lite(tmp_path, clock):
    """SQLite only for the variations; the attack and the approval run on both databases."""
    from fenghuo.platform.db import Database

    d = Database(str(tmp_path / "fenghuo.db"), clock=clock)
    d.upgrade()
    yield d
    d.dispose()


def register(db, actor, text):
    [result] = services.register(db, actor, parse_registration(text))
    return result


def grade(db):
    return services.get(db, ADMIN, "a-med")["grade"]["grade"]


def test_the_attack_is_refused_under_a_regulators_hold_and_an_open_incident(db, tmp_path):
    seed(db)
    assert grade(db) == "L3"
    switch.execute(db, REG_BJ, "a-med", "pause", "regulator's order")
    with pytest.raises(Conflict) as e:
        register(db, OP_A, MOVED_DOWN)
    assert e.value.code == "registration_held" and "hold" in e.value.en and "jurisdiction cn-bj-hd → cn-sh" in e.value.en
    assert grade(db) == "L3" and services.get(db, REG_BJ, "a-med")["jurisdiction"] == "cn-bj-hd"  # still in sight
    with pytest.raises(Conflict):
        register(db, ADMIN, MOVED_DOWN)  # the admin too
    inc = incidents.open_incident(db, OP_A, "a-med", "III", "unsafe dosage advice")
    # the regulator lifts its pause; the open incident alone still refuses the move
    with db.transaction() as s:
        from fenghuo.control.models import SwitchState

        s.get(SwitchState, "a-med").hold_by = None
    with pytest.raises(Conflict) as e:
        register(db, OP_A, MOVED_DOWN)
    assert inc["id"] in e.value.en
    # a change that lowers nothing still applies at once, and the report keeps the grade the
    # incident was opened with
    raised = register(db, OP_A, A_MED.format(sector="medical", reach=20000000, extra=""))
    assert raised["result"] in ("updated", "regraded")
    rep = reports.generate(db, OP_A, inc["id"], "initial", out_dir=tmp_path)
    text = json.dumps(rep, ensure_ascii=False)
    assert "risk grade: L3 (cn-default" in text and "reach: 500000" in text and "reach: 20000000" not in text
    with db.reader() as s:
        snap = s.get(incidents.Incident, inc["id"]).service_snapshot
    assert snap["grade"]["grade"] == "L3" and snap["jurisdiction"] == "cn-bj-hd"


def test_without_a_hold_the_change_waits_for_a_regulator_of_the_current_jurisdiction(db):
    seed(db)
    r = register(db, OP_A, MOVED_DOWN)
    assert r["result"] == "awaiting_approval" and r["grade"] == "L3"
    assert any("grade L3 → L2" in c for c in r["changes"]) and any("fail-safe" in c for c in r["changes"])
    assert grade(db) == "L3"
    [pending] = regrading.list_changes(db, REG_BJ)
    assert pending["id"] == r["change"] and regrading.list_changes(db, REG_SH) == []
    with pytest.raises(Forbidden):
        regrading.approve(db, OP_A, r["change"])  # not the operator
    with pytest.raises(NotFound):
        regrading.approve(db, REG_SH, r["change"])  # not the regulator it would move to
    done = regrading.approve(db, REG_BJ, r["change"])
    assert done["status"] == "approved" and done["result"]["grade"] == "L2"
    assert grade(db) == "L2" and services.get(db, REG_SH, "a-med")["jurisdiction"] == "cn-sh"
    with pytest.raises(Conflict):
        regrading.approve(db, REG_CN, r["change"])  # once
    with db.reader() as s:
        kinds = [e["kind"] for e in store.iter_entries(s, subject="a-med")]
    assert kinds[-3:] == ["service.change_requested", "service.change_approved", "service.regraded"]


def test_a_refused_or_stale_change_is_not_applied(lite):
    db = lite
    seed(db)
    first = register(db, OP_A, A_MED.format(sector="general", reach=500000, extra=""))  # L3 → L2: waits
    assert first["result"] == "awaiting_approval" and "sector medical → general" in first["changes"]
    regrading.refuse(db, REG_BJ, first["change"], "it is a medical service")
    assert services.get(db, ADMIN, "a-med")["attributes"]["sector"] == "medical"
    # a change that lowers nothing (a smaller reach that keeps L3, another sector of the same
    # grade) applies at once
    assert register(db, OP_A, A_MED.format(sector="medical", reach=400000, extra=""))["result"] == "updated"
    second = register(db, OP_A, MOVED_DOWN)
    register(db, OP_A, A_MED.format(sector="medical", reach=600000, extra=""))  # the record moves on
    with pytest.raises(Conflict) as e:
        regrading.approve(db, REG_BJ, second["change"])
    assert e.value.code == "change_stale"
    assert grade(db) == "L3"


def test_changes_over_http(lite):
    import httpx

    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings
    from fenghuo.platform.roles import Role
    from fenghuo.registry.tokens import create_token

    db = lite
    seed(db)
    tok = {"op": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
           "bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
           "sh": create_token(db, ADMIN, "sh", Role.regulator, jurisdiction_id="cn-sh")}
    body = parse_registration(MOVED_DOWN).model_dump(mode="json")
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who, **kw):
            return http.request(method, path, headers={"Authorization": f"Bearer {tok[who]}"}, **kw)

        r = call("POST", "/api/v1/services", "op", json=body)
        assert r.status_code == 200, r.text
        [res] = [x for x in r.json()["results"] if x.get("service") == "a-med"]
        assert res["result"] == "awaiting_approval"
        assert [c["id"] for c in call("GET", "/api/v1/service-changes", "bj").json()] == [res["change"]]
        assert call("GET", "/api/v1/service-changes", "sh").json() == []
        assert call("POST", f"/api/v1/service-changes/{res['change']}/approve", "op").status_code == 403
        r = call("POST", f"/api/v1/service-changes/{res['change']}/approve", "bj")
        assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["result"]["grade"] == "L2"
        assert call("GET", "/api/v1/services/a-med", "sh").json()["grade"]["grade"] == "L2"
        switch.execute(db, REG_SH, "a-med", "pause", "now Shanghai's")
        back = parse_registration(ORIGINAL.replace("}", ", jurisdiction: cn-bj-hd}")).model_dump(mode="json")
        r = call("POST", "/api/v1/services", "op", json=back)
        assert r.status_code == 409 and r.json()["error"]["code"] == "registration_held"
