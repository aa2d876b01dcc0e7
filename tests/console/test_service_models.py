"""The service page's read-only model versions (CN-TC-18) and label waivers (CN-LB-18), in a
real browser: active, pending and superseded versions with their verification, and the waivers
a page at a time, escaped."""

from __future__ import annotations

import pytest

from fenghuo.guard import label_waivers
from fenghuo.platform.errors import Conflict
from fenghuo.platform.roles import local_actor
from fenghuo.recovery import model_updates, procedure

from .conftest import XSS, shot

FULL = {"user": "u-42", "request": "ticket 881: no AI notice", "agreement": "用户协议 v3 第 7.2 条 / ToS v3 §7.2",
        "recipient": "Acme Publishing"}


def test_service_page_lists_model_versions_and_label_waivers(console, page, monkeypatch):
    me = local_actor()
    model_updates.propose(console.db, me, "open-chat", "v0")
    model_updates.propose(console.db, me, "open-chat", "v1", note="季度更新")
    model_updates.propose(console.db, me, "open-chat", "v2", important=True)
    monkeypatch.setattr(procedure, "verdict_loader", lambda run: (False, {"run_id": run, "profile": "gbt45654", "complete": True}))
    with pytest.raises(Conflict):
        model_updates.verify(console.db, me, "open-chat", "v2", "weak-run")
    ids = [label_waivers.record(console.db, me, "open-chat", **{**FULL, "user": f"u-{i}"})["id"] for i in range(23)]
    label_waivers.record(console.db, me, "open-chat", **{**FULL, "recipient": XSS})
    label_waivers.record(console.db, me, "xss-svc", **{**FULL, "user": "other-service"})

    console.login(page, "operator")
    page.goto(f"{console.url}/services/open-chat")
    assert page.inner_text("[data-active-version]") == "v1"
    rows = page.locator("table.model-versions tbody tr")
    assert [rows.nth(i).get_attribute("data-version") for i in range(rows.count())] == ["v2", "v1", "v0"]
    pending = page.inner_text("tr[data-version=v2]")
    assert "待评估" in pending and "未通过" in pending and "weak-run" in pending
    assert "获批" in page.inner_text("tr[data-version=v1]") and "季度更新" in page.inner_text("tr[data-version=v1]")
    assert "已替换" in page.inner_text("tr[data-version=v0]")

    waivers = page.locator("table.label-waivers tbody tr")
    assert waivers.count() == 20 and waivers.first.get_attribute("data-waiver") == ids[0]
    assert "other-service" not in page.inner_text("table.label-waivers")  # another service's waiver
    shot(page, "service-models-waivers")
    page.click("#waivers-next")
    page.wait_for_url("**waivers_after=*")
    waivers = page.locator("table.label-waivers tbody tr")
    assert [waivers.nth(i).get_attribute("data-waiver") for i in range(waivers.count())][:3] == ids[20:23]
    assert waivers.count() == 4 and page.locator("#waivers-next").count() == 0
    assert XSS in page.inner_text("table.label-waivers")  # shown as text, never run
    assert page.evaluate("window.__xss") is None and not page.js_errors

    page.goto(f"{console.url}/services/xss-svc")  # no version registered: says so; its own waiver only
    page.wait_for_selector("[data-no-versions]")
    assert page.locator("table.label-waivers tbody tr").count() == 1 and "other-service" in page.inner_text("table.label-waivers")


def test_a_bad_waiver_cursor_is_a_bilingual_422_page(console, page):
    console.login(page, "operator")
    r = page.goto(f"{console.url}/services/open-chat?waivers_after={'x' * 41}")
    assert r.status == 422 and "waivers_after" in page.inner_text("main")
