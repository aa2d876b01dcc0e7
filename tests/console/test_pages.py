"""Warnings, silences and incidents in a real browser: acknowledge a warning, create and end
a silence, see a new warning appear without reloading, generate an incident report and
download it as DOCX."""

from __future__ import annotations

import io
import zipfile

from fenghuo.platform.roles import local_actor
from fenghuo.response import incidents
from tests.response.helpers import fire

from .conftest import shot


def test_acknowledge_a_warning_and_silence_its_service(console, page):
    w = fire(console.db, "open-chat", "yellow", alert="complaints")
    console.login(page, "operator")
    page.goto(f"{console.url}/warnings")
    row = page.locator(f"tr[data-warning='{w['id']}']")
    row.locator("input[name=owner]").fill("值班员 Zhang")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".flash")
    assert "值班员 Zhang" in page.locator(f"tr[data-warning='{w['id']}']").inner_text()
    shot(page, "warnings-acknowledged")

    page.fill("#matchers", "service=open-chat")
    page.fill("#silence-reason", "维护窗口 maintenance")
    page.fill("#duration", "30m")
    page.click("#new-silence button[type=submit]")
    page.wait_for_selector("tr[data-silence]")
    assert "维护窗口" in page.inner_text("table.silences")
    shot(page, "warnings-silence")
    page.locator("tr[data-silence] button[type=submit]").click()
    page.wait_for_selector(".flash")
    assert page.locator("tr[data-silence]").count() == 0

    # An operator may not silence another provider's service: the route's own rule, as a page.
    page.fill("#matchers", "service=sh-chat")
    page.fill("#silence-reason", "not mine")
    page.click("#new-silence button[type=submit]")
    assert page.locator("h1").inner_text() in ("无权操作", "forbidden")

    # Live: a warning that fires while the page is open appears without a reload.
    page.goto(f"{console.url}/warnings")
    page.wait_for_selector(".live-status.on")
    w2 = fire(console.db, "open-chat", "blue", alert="latency")
    page.wait_for_selector(f"tr[data-warning='{w2['id']}']", timeout=3000)
    assert not page.js_errors


def test_incident_report_downloads_as_docx(console, page):
    inc = incidents.open_incident(console.db, local_actor(), "open-chat", "III", "输出违规 <b>spike</b>")
    console.login(page, "operator")
    page.goto(f"{console.url}/incidents")
    page.wait_for_selector(".live-status.on")
    # an incident opened elsewhere appears without a reload (the ledger's tail, scope-checked)
    other = incidents.open_incident(console.db, local_actor(), "xss-svc", "IV", "另一事件 another")
    page.wait_for_selector(f"a[href='/incidents/{other['id']}']", timeout=4000)
    shot(page, "incidents")
    page.click(f"a[href='/incidents/{inc['id']}']")
    page.wait_for_selector("[data-due]")
    page.wait_for_function("document.querySelector('[data-due]').textContent.includes(':')")
    page.select_option("#kind", "initial")
    page.fill("#n-cause", "规则误放行 rule gap")
    page.click("#new-report button[type=submit]")
    page.wait_for_selector("tr[data-report]")
    shot(page, "incident-detail")
    with page.expect_download() as dl:
        page.click("tr[data-report] a[href$='.docx']")
    data = dl.value.path().read_bytes()
    assert dl.value.suggested_filename.endswith(".docx")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "word/document.xml" in z.namelist()
        assert "open-chat" in z.read("word/document.xml").decode()
    # submit it: the initial clock is met
    page.fill("tr[data-report] input[name=to]", "北京市网信办")
    page.click("tr[data-report] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "北京市网信办" in page.inner_text("table.reports")
    assert not page.js_errors


def test_indicator_charts_draw_the_monitor_windows(console, page):
    import time

    import httpx

    from tests.monitor.helpers import call

    now = time.time()
    events = [call("open-chat", now - 50 + i, latency=80 + 4 * i, unsafe=i % 5 == 0) for i in range(50)]
    r = httpx.post(f"{console.url}/api/v1/events", json=events, timeout=10,
                   headers={"Authorization": f"Bearer {console.tokens['admin']}"})
    assert r.status_code == 200 and r.json()["accepted"] == 50, r.text
    console.login(page, "operator")
    page.goto(f"{console.url}/services/open-chat")
    figure = page.locator("figure:has(svg.spark)").filter(has_text="调用次数").nth(1)  # the 5m window
    assert "50" in figure.inner_text()
    assert page.locator("svg.spark polyline").count() >= 4
    shot(page, "service-charts")
    # on a phone: nothing wider than the screen but the tables, which scroll in their own box
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/services/open-chat", "/"):
        page.goto(f"{console.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        shot(page, f"phone{path.replace('/', '-')}")
