"""Scope, CSRF and XSS in a real browser: a provincial regulator sees only its subtree and
orders a pause; out-of-scope pages and forms answer 403/404; a form without its CSRF token, or
posted from another origin, is refused; service names and reasons that hold markup stay text.
Also the ledger page and the language switch."""

from __future__ import annotations

import json
import re

from .conftest import XSS, shot


def csrf_of(page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def test_regulator_sees_its_subtree_and_orders_a_pause(console, page):
    console.login(page, "regulator")
    page.click("a[href='/regulator']")
    page.wait_for_selector("table.tree")
    nodes = page.locator("tr.node").evaluate_all("rows => rows.map(r => r.dataset.jurisdiction)")
    assert nodes == ["cn-bj", "cn-bj-hd"]  # its province and the city beneath it; not cn, not cn-sh
    services = set(page.locator("tr.svc").evaluate_all("rows => rows.map(r => r.dataset.service)"))
    assert services == {"open-chat", "xss-svc"}
    shot(page, "regulator-tree")
    page.fill("#order-open-chat", "未按要求整改 / order CN-EP-07")
    page.click("tr.svc[data-service=open-chat] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "open-chat" in page.inner_text(".flash")
    assert page.locator("tr.svc[data-service=open-chat] .state-paused").count() == 1
    shot(page, "regulator-ordered")
    # the overview lists the same subtree only
    page.goto(f"{console.url}/")
    assert set(page.locator("tr[data-service]").evaluate_all("r => r.map(x => x.dataset.service)")) == {"open-chat", "xss-svc"}
    # and a service of another province is refused, page and form alike
    assert page.goto(f"{console.url}/services/sh-chat").status == 403
    shot(page, "error-403")
    r = page.request.post(f"{console.url}/services/sh-chat/order", form={"reason": "x", "csrf": csrf_of(page)})
    assert r.status == 403
    assert not page.js_errors


def test_scope_and_csrf(console, page):
    console.login(page, "operator")
    assert page.goto(f"{console.url}/services/sh-chat").status == 403
    assert page.goto(f"{console.url}/services/no-such-service").status == 404
    page.goto(f"{console.url}/services/open-chat")
    token = csrf_of(page)
    # out of scope with a valid token: 403, and nothing changed
    r = page.request.post(f"{console.url}/services/sh-chat/command", form={"action": "pause", "reason": "x", "csrf": token})
    assert r.status == 403
    # without the token, or with a wrong one, or from another origin: 403
    for form, headers in [({"action": "pause", "reason": "x"}, {}),
                          ({"action": "pause", "reason": "x", "csrf": "0" * 40}, {}),
                          ({"action": "pause", "reason": "x", "csrf": token}, {"Origin": "http://evil.example"})]:
        r = page.request.post(f"{console.url}/services/open-chat/command", form=form, headers=headers)
        assert r.status == 403, (form, headers, r.status)
    page.goto(f"{console.url}/services/open-chat")
    assert page.locator(".switch-now .state-running").count() == 1
    # the ledger's whole chain is not an operator's
    assert page.request.get(f"{console.url}/ledger/export").status == 403
    # without a session: the login page, and a form is refused
    anon = page.context.browser.new_context()
    p2 = anon.new_page()
    p2.goto(f"{console.url}/services/open-chat")
    assert p2.url.startswith(f"{console.url}/login")
    shot(p2, "login")
    assert p2.request.post(f"{console.url}/services/open-chat/command", form={"action": "pause", "reason": "x"}).status == 401
    anon.close()


def test_markup_in_names_and_reasons_stays_text(console, page):
    console.login(page, "operator")
    assert XSS in page.inner_text("tr[data-service=xss-svc]")
    page.goto(f"{console.url}/services/xss-svc")
    reason = '<script>window.__xss=2</script><img src=x onerror="window.__xss=3">'
    page.fill("#reason-pause", reason)
    page.click("form[data-action=pause] button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.inner_text("[data-reason]") == reason
    assert page.locator("main script, main img").count() == 0
    shot(page, "service-xss")
    # the same reason arriving over the live stream is written as text too
    page.goto(f"{console.url}/")
    page.wait_for_selector(".live-status.on")
    page.request.post(f"{console.url}/api/v1/services/xss-svc/commands",
                      headers={"Authorization": f"Bearer {console.tokens['operator']}", "Content-Type": "application/json"},
                      data=json.dumps({"action": "stop", "reason": reason}))
    page.wait_for_selector("tr[data-service=xss-svc] .state-stopped", timeout=2000)
    assert page.evaluate("window.__xss") is None
    assert not page.js_errors


def test_ledger_page_and_language(console, page):
    console.login(page, "regulator")
    page.click("a[href='/ledger']")
    page.click("#verify")
    page.wait_for_selector("#verified")
    assert re.search(r"校验通过|verified", page.inner_text("#verified"))
    with page.expect_download() as dl:
        page.click("#checkpoint")
    cp = json.loads(dl.value.path().read_text())
    assert cp["seq"] > 0 and cp["signature"]
    with page.expect_download() as dl:
        page.click("#export")
    lines = [json.loads(x) for x in dl.value.path().read_text().splitlines()]
    assert len(lines) == cp["seq"] and lines[-1]["seq"] == cp["seq"]
    # a Beijing regulator's export shows Shanghai's entries as hashes only, as the API's does
    shanghai = [e for e in lines if e.get("subject") == "sh-chat"]
    assert shanghai == [] and not any("sh-chat" in json.dumps(e, ensure_ascii=False) for e in lines)
    assert "sh-chat" not in page.inner_text("table.ledger")
    page.goto(f"{console.url}/ledger?verify=1")
    shot(page, "ledger")
    page.click("a[href^='/lang/en']")
    page.wait_for_selector("nav a[href='/']")
    assert page.inner_text("nav a[href='/']") == "Overview"
    shot(page, "ledger-en")
    assert not page.js_errors
