"""Per-user measures (CN-PO-09), the hourly telemetry summaries on the service page and the
retention status (CN-PO-20, CN-LB-18, EU-06), over plain HTTP (the forms work without script),
plus one browser walk with screenshots: the measure forms go through
``control.user_measures`` (the API sees what the console did, the ledger records it), with the
API's roles — an auditor reads, another provider's operator is refused, a regulator's measure
is lifted only by a regulator — and bilingual errors for bad input."""

from __future__ import annotations

import re
import time
from contextlib import closing

import httpx

from fenghuo.ledger import store

from .conftest import XSS, shot
from .test_forms_http import csrf, logged_in


def api(console, path: str, who: str = "admin") -> httpx.Response:
    return httpx.get(f"{console.url}/api/v1{path}", timeout=5, headers={"Authorization": f"Bearer {console.tokens[who]}"})


def measures(console, service: str = "open-chat") -> list[dict]:
    r = api(console, f"/services/{service}/user-measures?all=true")
    assert r.status_code == 200, r.text
    return r.json()["measures"]


def test_an_operator_warns_restricts_and_lifts_through_the_forms(console):
    with closing(logged_in(console, "operator")) as c:
        html = c.get("/services/open-chat").text
        assert 'href="/services/open-chat/user-measures"' in html  # linked from the service page
        token, html = csrf(c, "/services/open-chat/user-measures")
        assert 'id="new-measure"' in html and "没有用户措施" in html
        # no CSRF token, a wrong one: refused, nothing written
        assert c.post("/services/open-chat/user-measures", data={"user": "u1", "measure": "warn", "reason": "x"}).status_code == 403
        assert c.post("/services/open-chat/user-measures",
                      data={"csrf": "0" * 40, "user": "u1", "measure": "warn", "reason": "x"}).status_code == 403
        assert measures(console) == []
        r = c.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-1001", "measure": "warn",
                                                              "reason": f"多次诱导 {XSS}", "until": "7d"})
        assert r.status_code == 303, r.text
        assert "u-1001" in r.headers["location"] or "flash" in r.headers["location"]
        (m,) = measures(console)
        assert (m["user"], m["measure"], m["lifted_at"]) == ("u-1001", "warn", None) and m["until"]
        html = c.get("/services/open-chat/user-measures").text
        assert 'data-user="u-1001" data-status="in_force"' in html
        assert XSS not in html and "多次诱导 &lt;img" in html  # the reason is text
        # a new measure on the same user replaces the old one: restrict needs a whole-number rate
        r = c.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-1001", "measure": "restrict",
                                                              "rate": "abc", "reason": "刷量"})
        assert r.status_code == 422 and "必须是整数" in r.text and "whole number" not in r.text
        r = c.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-1001", "measure": "restrict",
                                                              "reason": "刷量"})
        assert r.status_code == 422 and "限制需要每分钟请求数" in r.text
        r = c.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-1001", "measure": "restrict",
                                                              "rate": "30", "reason": "刷量", "until": "2020-01-01T00:00:00Z"})
        assert r.status_code == 422 and "截止时间已过" in r.text
        r = c.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-1001", "measure": "restrict",
                                                              "rate": "30", "reason": "刷量"})
        assert r.status_code == 303, r.text
        rows = measures(console)
        assert [(x["measure"], x["lift_reason"]) for x in rows] == [("warn", "replaced"), ("restrict", None)]
        assert rows[1]["rate"] == 30
        html = c.get("/services/open-chat/user-measures").text
        assert html.count('data-status="in_force"') == 1 and "被新措施取代" in html
        assert "30 次/分钟" in html
        # lift it; lifting again: 404 in both languages
        r = c.post("/services/open-chat/user-measures/lift", data={"csrf": token, "user": "u-1001", "reason": "申诉通过"})
        assert r.status_code == 303, r.text
        assert all(x["lifted_at"] for x in measures(console))
        r = c.post("/services/open-chat/user-measures/lift", data={"csrf": token, "user": "u-1001", "reason": "again"})
        assert r.status_code == 404 and "没有生效的措施" in r.text
        c.cookies.set("fenghuo_lang", "en")
        r = c.post("/services/open-chat/user-measures/lift", data={"csrf": token, "user": "u-1001", "reason": "again"})
        assert r.status_code == 404 and "has no measure in force" in r.text
    # every apply and lift is in the ledger, with the service as its subject
    with console.db.reader() as s:
        kinds = [e["kind"] for e in store.iter_entries(s, subject="open-chat") if e["kind"].startswith("user.measure")]
    assert kinds == ["user.measure.applied", "user.measure.applied", "user.measure.lifted"]


def test_measure_roles_and_scope_are_the_apis(console):
    with closing(logged_in(console, "regulator")) as reg:
        token, html = csrf(reg, "/services/open-chat/user-measures")
        assert 'id="new-measure"' in html  # a regulator of the jurisdiction may impose
        r = reg.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-9", "measure": "suspend",
                                                                "reason": "监管要求"})
        assert r.status_code == 303, r.text
        assert reg.get("/services/sh-chat/user-measures").status_code == 403  # another province
    with closing(logged_in(console, "operator")) as op:
        token, html = csrf(op, "/services/open-chat/user-measures")
        assert "仅监管方可解除" in html  # no lift button on a regulator's measure
        r = op.post("/services/open-chat/user-measures/lift", data={"csrf": token, "user": "u-9", "reason": "x"})
        assert r.status_code == 403 and "只有监管方可以解除" in r.text
        r = op.post("/services/open-chat/user-measures", data={"csrf": token, "user": "u-9", "measure": "warn", "reason": "x"})
        assert r.status_code == 403  # nor replace it
        assert op.get("/services/sh-chat/user-measures").status_code == 403
        assert op.post("/services/sh-chat/user-measures",
                       data={"csrf": token, "user": "u-1", "measure": "warn", "reason": "x"}).status_code == 403
        assert op.get("/services/no-such/user-measures").status_code == 404
    with closing(logged_in(console, "auditor")) as aud:
        token, html = csrf(aud, "/services/open-chat/user-measures")
        assert 'id="new-measure"' not in html and 'data-user="u-9"' in html and "只能查看" in html
        assert aud.post("/services/open-chat/user-measures/lift",
                        data={"csrf": token, "user": "u-9", "reason": "x"}).status_code == 403
    assert [m["lifted_at"] for m in measures(console)] == [None]


def test_hourly_summaries_on_the_service_page(console):
    from tests.monitor.helpers import call

    now = time.time()
    events = [call("open-chat", now - 30 + i * 0.5, latency=50 + i, unsafe=i % 4 == 0) for i in range(40)]
    r = httpx.post(f"{console.url}/api/v1/events", json=events, timeout=10,
                   headers={"Authorization": f"Bearer {console.tokens['admin']}"})
    assert r.status_code == 200 and r.json()["accepted"] == 40, r.text
    runtime = console.server.app.state.runtime
    deadline = time.time() + 5
    while runtime.monitor.summaries.flush() == 0 and time.time() < deadline and not _stored(console):
        time.sleep(0.05)
    with closing(logged_in(console, "operator")) as c:
        html = c.get("/services/open-chat").text
        assert 'id="hourly"' in html and "每小时遥测汇总" in html
        hours = re.findall(r'<tr data-hour="(\d+)"><th scope="row"><time[^>]*>[^<]+</time></th><td>(\d+)</td>', html)
        assert sum(int(n) for _, n in hours) == 40, hours
        assert c.get("/services/open-chat?hours=0").status_code == 422
        r = c.get("/services/open-chat?hours=abc")
        assert r.status_code == 422 and "hours 应在 1 到" in r.text  # a page in both languages, not a JSON body
        assert "hours 应在 1 到" in c.get("/services/open-chat?hours=100000").text
        assert 'id="hourly"' in c.get("/services/open-chat?hours=168").text
    with closing(logged_in(console, "operator_b")) as b:
        assert b.get("/services/open-chat").status_code == 403


def _stored(console) -> bool:
    return bool(api(console, "/services/open-chat/telemetry-summary").json()["hours"])


def test_retention_status_for_admins_and_auditors_only(console):
    with closing(logged_in(console, "admin")) as c:
        html = c.get("/").text
        assert 'href="/retention"' in html
        html = c.get("/retention").text
        assert "留存状态" in html and "183 天" in html and 'id="retention-ok"' in html
        stores = re.findall(r'<tr data-store="([^"]+)">', html)
        assert {"ledger", "warnings", "incidents", "complaints", "telemetry summaries (hourly, per service)"} <= set(stores)
        assert re.search(r'<tr data-store="ledger">\s*<th scope="row">账本</th>\s*<td>(\d+)</td>', html).group(1) != "0"
    with closing(logged_in(console, "auditor")) as c:
        assert c.get("/retention").status_code == 200
    for who in ("operator", "regulator"):
        with closing(logged_in(console, who)) as c:
            assert 'href="/retention"' not in c.get("/").text
            r = c.get("/retention")
            assert r.status_code == 403 and "全局审计员" in r.text


def test_measures_and_retention_pages_in_a_browser(console, page):
    from tests.monitor.helpers import call

    now = time.time()
    events = [call("open-chat", now - 20 + i * 0.5, latency=40 + 3 * i, unsafe=i % 6 == 0) for i in range(30)]
    httpx.post(f"{console.url}/api/v1/events", json=events, timeout=10, headers={"Authorization": f"Bearer {console.tokens['admin']}"})
    console.server.app.state.runtime.monitor.summaries.flush()
    console.login(page, "operator")
    page.goto(f"{console.url}/services/open-chat")
    page.wait_for_selector("table.hours tbody tr")
    page.locator("#hourly").screenshot(path=str(shot(page, "service-hourly").with_name("service-hourly-section.png")))
    page.click("#measures-link")
    page.wait_for_selector("#new-measure")
    page.fill("#m-user", "用户-42")
    page.select_option("#m-measure", "restrict")
    page.fill("#m-rate", "20")
    page.fill("#m-until", "3d")
    page.fill("#m-reason", "批量生成垃圾内容 / bulk spam")
    page.click("#new-measure button[type=submit]")
    page.wait_for_selector(".flash")
    assert "用户-42" in page.inner_text(".flash")
    assert page.locator("tr[data-user='用户-42'][data-status=in_force]").count() == 1
    shot(page, "user-measures")
    page.fill("input[id^=lift-]", "已整改")
    page.click("form.lift button[type=submit]")
    page.wait_for_selector("tr[data-user='用户-42'][data-status=lifted]")
    page.click("a[href^='/lang/en']")
    page.wait_for_selector("#new-measure")
    assert "Per-user measures" in page.inner_text("h1")
    shot(page, "user-measures-en")
    page.click("a[href^='/lang/zh']")
    anon = page.context.browser.new_context(locale="zh-CN")
    p2 = anon.new_page()
    console.login(p2, "admin")
    p2.goto(f"{console.url}/retention")
    p2.wait_for_selector("table.retention")
    shot(p2, "retention")
    anon.close()
    assert not page.js_errors
