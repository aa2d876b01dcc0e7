"""End to end: a red warning makes the control plane's response plan pause the service and open
an incident; the gateway's 503 then names that incident, and a later command clears it."""

from __future__ import annotations

import httpx

from fenghuo.control import switch
from fenghuo.platform.roles import local_actor
from fenghuo.response import incidents
from tests.response.helpers import fire

from .conftest import command
from .helpers import wait_for

BODY = {"model": "primary-model", "messages": [{"role": "user", "content": "你好"}]}


def test_plan_pause_refusal_names_the_incident(make_gateway, control, cp_db):
    gw, srv = make_gateway("open-chat")
    assert httpx.post(f"{srv.url}/v1/chat/completions", json=BODY, timeout=10).status_code == 200
    fire(cp_db, "open-chat", "red")  # the server's response runtime runs the shipped plan: pause, open incident
    assert wait_for(lambda: gw.guard.state().incident is not None, timeout=10), gw.guard.state()
    (inc,) = incidents.list_incidents(cp_db, local_actor(), service="open-chat")
    st = switch.get_state(cp_db, local_actor(), "open-chat")
    assert st["state"] == "paused" and st["incident"] == inc["id"] and st["command"].startswith("plan-")
    eff = gw.guard.state()
    assert (eff.state, eff.version, eff.incident) == ("paused", st["version"], inc["id"])
    r = httpx.post(f"{srv.url}/v1/chat/completions", json=BODY, timeout=10)
    err = r.json()["error"]
    assert r.status_code == 503 and err["code"] == "service_paused" and err["incident"] == inc["id"], r.text
    # The next command's state belongs to no incident until it is linked to one.
    v = command(control, "open-chat", "stop")["version"]
    assert wait_for(lambda: gw.guard.state().version == v, timeout=5)
    r = httpx.post(f"{srv.url}/v1/chat/completions", json=BODY, timeout=10)
    assert r.status_code == 503 and r.json()["error"]["code"] == "service_stopped" and r.json()["error"]["incident"] is None
