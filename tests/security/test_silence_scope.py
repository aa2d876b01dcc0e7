"""Issue 14, item 4: silences were not scoped — one provider's operator ended another's silence;
a Shanghai regulator's ``service=~.*`` silence muted notifications in every jurisdiction; every
role saw every silence with its reason and author. Now a silence belongs to its maker's scope."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from fenghuo.alerts import silences
from fenghuo.alerts.channels import Channel
from fenghuo.alerts.models import NotificationRow
from fenghuo.alerts.silence_match import applies
from fenghuo.api.server import ServerThread
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.tokens import create_token
from tests.alerts.conftest import Receiver, Rig
from tests.alerts.test_notify import RULES, unsafe
from tests.monitor.helpers import ADMIN, seed

OP_A = Actor("alice", Role.operator, provider_id="pa")
OP_B = Actor("bob", Role.operator, provider_id="pb")
REG_SH = Actor("sh-cac", Role.regulator, jurisdiction_id="cn-sh")
REG_BJ = Actor("bj-cac", Role.regulator, jurisdiction_id="cn-bj")
REG_CN = Actor("cac", Role.regulator, jurisdiction_id="cn")


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def db(tmp_path, clock):
    d = Database(str(tmp_path / "fenghuo.db"), clock=clock)
    d.upgrade()
    seed(d)
    yield d
    d.dispose()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_a_shanghai_regulators_catch_all_silence_mutes_shanghai_only(db, clock, receiver):
    rig = Rig(db, clock, RULES, [Channel("hook", "webhook", url=receiver.url)])
    try:
        s = silences.create(db, REG_SH, ["service=~.*"], "Shanghai maintenance", duration="1h")
        assert s["scope"] == {"provider": None, "jurisdiction_path": "cn/cn-sh/"}
        rig.post(unsafe(clock, "a-chat", 20, 0.9) + unsafe(clock, "b-chat", 20, 0.9))  # a-chat: Beijing, b-chat: Shanghai
        rig.engine.notifier.run_once()
        assert [q["json"]["warnings"][0]["service"] for q in receiver.requests] == ["a-chat"]
        with db.reader() as x:
            silenced = [n.group_key for n in x.execute(select(NotificationRow)).scalars() if n.status == "silenced"]
        assert silenced == ["b-chat/viol"]
    finally:
        rig.engine.notifier._client.close()


def test_an_operators_silence_matches_only_its_providers_services():
    row = type("S", (), {"scope_provider": "pb", "scope_path": None, "matchers": [{"name": "alert", "op": "=~", "value": ".*"}]})
    assert applies(row, {"alert": "viol", "provider": "pb", "jurisdiction": "cn/cn-sh/"})
    assert not applies(row, {"alert": "viol", "provider": "pa", "jurisdiction": "cn/cn-sh/"})
    assert not applies(row, {"alert": "viol"})  # a service the directory does not know is in no one's scope
    deployment = type("S", (), {"scope_provider": None, "scope_path": None, "matchers": row.matchers})
    assert applies(deployment, {"alert": "viol"})


@pytest.fixture
def api(db):
    made = {
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "op_b": create_token(db, ADMIN, "bob", Role.operator, provider_id="pb"),
        "reg_sh": create_token(db, ADMIN, "sh", Role.regulator, jurisdiction_id="cn-sh"),
        "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
        "reg_cn": create_token(db, ADMIN, "cac", Role.regulator, jurisdiction_id="cn"),
        "aud_pa": create_token(db, ADMIN, "audit-pa", Role.auditor, provider_id="pa"),
        "auditor": create_token(db, ADMIN, "audit", Role.auditor),
        "admin": create_token(db, ADMIN, "root", Role.admin),
    }
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who, **kw):
            return http.request(method, path, headers={"Authorization": f"Bearer {made[who]}"}, **kw)
        yield call


def _make(api, who, matchers, reason):
    r = api("POST", "/api/v1/silences", who, json={"matchers": matchers, "reason": reason, "duration": "1h"})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_silences_are_ended_only_from_their_scope_and_listed_by_scope(api):
    a = _make(api, "op_a", ["service=a-chat"], "A's secret maintenance")
    b = _make(api, "op_b", ["service=b-chat"], "B's window")
    sh = _make(api, "reg_sh", ["service=~.*"], "Shanghai order")
    dep = _make(api, "admin", ["alert=viol"], "deployment-wide")

    def listed(who):
        return {s["id"] for s in api("GET", "/api/v1/silences", who).json()}

    assert listed("op_a") == {a} and listed("aud_pa") == {a}
    assert listed("op_b") == {b}
    assert listed("reg_sh") == {b, sh}  # its node's silences and those of providers it oversees
    assert listed("reg_bj") == {a}
    assert listed("reg_cn") == {a, b, sh}
    assert listed("admin") == listed("auditor") == {a, b, sh, dep}
    assert "A's secret" not in api("GET", "/api/v1/silences", "op_b").text
    # another provider's operator cannot end it (nor learn that it exists)
    assert api("DELETE", f"/api/v1/silences/{a}", "op_b").status_code == 404
    # a regulator sees a provider's silence but it is the provider's to end
    assert api("DELETE", f"/api/v1/silences/{b}", "reg_sh").status_code == 403
    assert api("DELETE", f"/api/v1/silences/{sh}", "reg_bj").status_code == 404
    assert api("DELETE", f"/api/v1/silences/{dep}", "reg_cn").status_code == 404
    assert api("DELETE", f"/api/v1/silences/{a}", "auditor").status_code == 403
    # from inside the scope it ends; a national regulator may end a provincial one beneath it
    assert api("DELETE", f"/api/v1/silences/{a}", "op_a").status_code == 200
    assert api("DELETE", f"/api/v1/silences/{sh}", "reg_cn").status_code == 200
    assert api("DELETE", f"/api/v1/silences/{dep}", "admin").status_code == 200
