"""The console's forms work without a browser's script (plain HTML forms over HTTP): the road
back from a pause — remediation, a signed checklist, a canary — as an operator; an auditor
sees no form and is refused if it posts one. Plain httpx, no browser: fast."""

from __future__ import annotations

import json
import re
from contextlib import closing

import httpx

from .conftest import Console


def logged_in(console: Console, who: str) -> httpx.Client:
    c = httpx.Client(base_url=console.url, timeout=10)
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"token": console.tokens[who], "csrf": csrf, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return c


def csrf(c: httpx.Client, path: str) -> tuple[str, str]:
    html = c.get(path).text
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1), html


def test_the_road_back_from_a_pause_through_forms(console):
    c = logged_in(console, "operator")
    token, html = csrf(c, "/services/open-chat")
    assert 'data-action="resume"' not in html and 'data-action="pause"' in html
    r = c.post("/services/open-chat/command", data={"csrf": token, "action": "pause", "reason": "复核", "id": "console-t1"})
    assert r.status_code == 303
    # the same form posted twice gives the command once (its id was made with the page)
    r = c.post("/services/open-chat/command", data={"csrf": token, "action": "pause", "reason": "复核", "id": "console-t1"})
    assert r.status_code == 303
    token, html = csrf(c, "/services/open-chat")
    assert 'data-action="canary"' in html and 'id="remediation"' in html
    assert html.count("switch.changed") == 2  # registered, paused: once
    # canary before the recovery procedure: 409 with what is missing
    r = c.post("/services/open-chat/command", data={"csrf": token, "action": "canary", "reason": "try", "percent": "10"})
    assert r.status_code == 409 and "recovery_required" in r.text
    r = c.post("/services/open-chat/remediation", data={"csrf": token, "kind": "rules", "description": "规则补丁",
                                                         "evidence": "version=2.1\ncommit=ab12cd"})
    assert r.status_code == 303, r.text
    r = c.post("/services/open-chat/verification", data={"csrf": token, "title": "上线前检查",
                                                          "checklist": "[x] 规则已更新\n[x] 回归测试通过"})
    assert r.status_code == 303, r.text
    html = c.get("/services/open-chat").text
    (vid,) = re.findall(r'data-verification="([^"]+)"', html)
    assert "待另一人会签" in html  # the signer may not countersign
    assert c.post(f"/services/open-chat/verifications/{vid}/countersign", data={"csrf": token}).status_code == 403
    with closing(logged_in(console, "admin")) as second:
        t2, _ = csrf(second, "/services/open-chat")
        assert second.post(f"/services/open-chat/verifications/{vid}/countersign", data={"csrf": t2}).status_code == 303
    r = c.post("/services/open-chat/command", data={"csrf": token, "action": "canary", "reason": "灰度", "percent": "10"})
    assert r.status_code == 303, r.text
    html = c.get("/services/open-chat").text
    assert "state-canary" in html and "10%" in html
    state = httpx.get(f"{console.url}/api/v1/services/open-chat/state", timeout=5,
                      headers={"Authorization": f"Bearer {console.tokens['admin']}"}).json()
    assert (state["state"], state["percent"]) == ("canary", 10)
    c.close()


def test_an_auditor_reads_and_changes_nothing(console):
    with closing(logged_in(console, "auditor")) as c:
        token, html = csrf(c, "/services/open-chat")  # the logout form's token
        assert "data-action=" not in html
        r = c.post("/services/open-chat/command", data={"csrf": token, "action": "pause", "reason": "x"})
        assert r.status_code == 403
        assert c.get("/regulator").status_code == 200
        assert c.get("/ledger/export").status_code == 200
        assert 'id="checkpoint"' not in c.get("/ledger").text
        assert c.post("/ledger/checkpoint", data={"csrf": token}).status_code == 403  # an auditor writes nothing
        assert c.post("/logout", data={"csrf": token}).status_code == 303  # but may log out


def test_overview_filters_in_the_database_and_pages(console):
    with closing(logged_in(console, "admin")) as c:
        html = c.get("/").text
        assert {"open-chat", "xss-svc", "sh-chat"} <= set(re.findall(r'data-service="([^"]+)"', html))
        assert set(re.findall(r'data-service="([^"]+)"', c.get("/?jurisdiction=cn-bj").text)) == {"open-chat", "xss-svc"}
        assert set(re.findall(r'data-service="([^"]+)"', c.get("/?jurisdiction=cn-bj-hd").text)) == {"open-chat"}
        assert set(re.findall(r'data-service="([^"]+)"', c.get("/?provider=pb&state=running").text)) == {"sh-chat"}
        assert re.findall(r'data-service="([^"]+)"', c.get("/?state=paused").text) == []
        assert set(re.findall(r'data-service="([^"]+)"', c.get("/?after=sh-chat").text)) == {"xss-svc"}


def test_redirects_stay_on_this_site(console):
    with closing(httpx.Client(base_url=console.url, timeout=10)) as c:
        for target in ("//evil.example", "/\\evil.example", "https://evil.example", "/ok"):
            r = c.get("/lang/en", params={"next": target})
            assert r.status_code == 303 and r.headers["location"] == ("/ok" if target == "/ok" else "/"), (target, r.headers)
        html = c.get("/login", params={"next": "/\\evil.example"}).text
        assert 'name="next" value="/"' in html


def test_the_live_stream_carries_only_the_viewers_services(console):
    with closing(logged_in(console, "operator_b")) as c, c.stream("GET", "/live") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event, hello, states = None, None, []
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
                if event == "hello":
                    hello = data
                elif event == "state":
                    states.append(data["service"])
                if hello is not None and len(states) >= hello["services"]:
                    break
        assert hello["services"] == 1 and states == ["sh-chat"]  # the snapshot holds its one service, nothing of pa's


def test_an_incident_duty_is_recorded_from_its_page(console):
    from fenghuo.platform.roles import local_actor
    from fenghuo.response import incidents

    inc = incidents.open_incident(console.db, local_actor(), "open-chat", "III", "涉嫌诈骗 fraud", flags=["suspected_crime"])
    with closing(logged_in(console, "operator")) as c:
        token, html = csrf(c, f"/incidents/{inc['id']}")
        assert f'action="/incidents/{inc["id"]}/duties/police_report"' in html
        r = c.post(f"/incidents/{inc['id']}/duties/police_report", data={"csrf": token, "c.to": "海淀分局"})
        assert r.status_code == 303, r.text
        duty = incidents.get(console.db, local_actor(), inc["id"])["duties"][0]
        assert duty["status"] in ("done", "done_late") and duty["content"]["to"] == "海淀分局"


def test_open_an_incident_and_start_recovery_from_the_service_page(console):
    with closing(logged_in(console, "operator")) as c:
        token, _ = csrf(c, "/services/open-chat")
        r = c.post("/services/open-chat/incidents", data={"csrf": token, "grade": "III", "title": "手工开启 <i>x</i>", "flags": ""})
        assert r.status_code == 303 and r.headers["location"].startswith("/incidents/inc-"), r.text
        html = c.get(r.headers["location"].split("?")[0]).text
        assert "手工开启 &lt;i&gt;x&lt;/i&gt;" in html and 'class="clocks"' in html
        c.post("/services/open-chat/command", data={"csrf": token, "action": "pause", "reason": "复核"})
        assert 'id="recovery-start"' in c.get("/services/open-chat").text
        r = c.post("/services/open-chat/recovery", data={"csrf": token, "ramp": "10, 50, 100", "hold_seconds": "30",
                                                         "rollback_level": "orange"})
        assert r.status_code == 303, r.text
        html = c.get("/services/open-chat").text
        assert "10→50→100%" in html and 'id="recovery-start"' not in html
        r = c.post("/services/open-chat/recovery", data={"csrf": token, "ramp": "ten"})
        assert r.status_code == 422
