"""End to end in a real browser: an operator logs in, pauses a service from its page, and a
running guard (the gateway, following the switch over SSE) answers 503 within a second; a
change made elsewhere shows on the open page without reloading."""

from __future__ import annotations

import time

import httpx

from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token
from tests.guard.conftest import gateway_maker, served
from tests.guard.helpers import receiver_app, upstream_app

from .conftest import shot

BODY = {"model": "primary-model", "messages": [{"role": "user", "content": "你好"}]}


def test_operator_pauses_and_the_guard_answers_503_within_a_second(console, page):
    token = create_token(console.db, local_actor(), "gateway", Role.system)
    for upstream in served(upstream_app()):
        for receiver in served(receiver_app()):
            for make in gateway_maker(token, receiver, ack_seconds=0.2):
                _, gw = make(upstream.url, console.url, "open-chat")
                with httpx.Client(base_url=gw.url, timeout=5) as http:
                    assert http.post("/v1/chat/completions", json=BODY).status_code == 200

                    console.login(page, "operator")
                    shot(page, "overview-operator")
                    page.click("a[href='/services/open-chat']")
                    page.wait_for_selector("form[data-action=pause]")
                    shot(page, "service-running")
                    page.fill("#reason-pause", "内容安全复核 / safety review")
                    # Timed from the console's answer to the submitted form (the command is
                    # accepted then), not from the click: the browser's own time to submit
                    # under a loaded test run is not the switch's propagation.
                    clicked = time.monotonic()
                    with page.expect_response(lambda r: r.request.method == "POST"):
                        page.click("form[data-action=pause] button[type=submit]")
                    started = time.monotonic()
                    status = None
                    while time.monotonic() - started < 3:
                        status = http.post("/v1/chat/completions", json=BODY).status_code
                        if status == 503:
                            break
                        time.sleep(0.02)
                    took = time.monotonic() - started
                    assert status == 503 and took < 1.0, (status, took)
                    page.wait_for_selector(".flash")
                    assert page.locator(".switch-now .state-paused").count() == 1
                    page.click("details.instances summary")  # the gateway's own acknowledgement
                    assert page.locator("details.instances tbody tr").count() == 1
                    # the jurisdiction view counts the service switchable: its one live instance acks v2
                    deadline = time.monotonic() + 5  # the gateway acks the new version within its ack interval
                    while True:
                        page.goto(f"{console.url}/regulator")
                        cell = page.locator("tr.node[data-jurisdiction=cn-bj-hd] td").nth(2).inner_text()
                        if "(1/1)" in cell or time.monotonic() > deadline:
                            break
                        time.sleep(0.2)
                    assert "(1/1)" in cell, cell
                    page.goto(f"{console.url}/services/open-chat")
                    shot(page, "service-paused")
                    print(f"accepted → gateway 503 in {took * 1000:.0f} ms "
                          f"(click → accepted {(started - clicked) * 1000:.0f} ms)")

                    # A change made elsewhere (the JSON API, as admin) shows on the open page.
                    r = httpx.post(f"{console.url}/api/v1/services/open-chat/commands", timeout=5,
                                   json={"action": "stop", "reason": "elsewhere"},
                                   headers={"Authorization": f"Bearer {console.tokens['admin']}"})
                    assert r.status_code == 200, r.text
                    page.wait_for_selector("[data-service=open-chat] .state-stopped", timeout=1000)
                    assert page.inner_text("[data-service=open-chat] [data-reason]") == "elsewhere"
    assert not page.js_errors
