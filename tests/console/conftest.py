"""Fixtures of the console's browser tests: one chromium (Debian's, driven by Playwright) for
the whole session, a real control plane (ServerThread, the app ``fenghuo serve`` runs) per
test on a database registered with a small jurisdiction tree, tokens for each role, and a
screenshot helper that saves every page under .ci/out/screenshots (FENGHUO_SCREENSHOTS)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fenghuo.api.server import ServerThread
from fenghuo.control import services as registry
from fenghuo.platform.config import Settings
from fenghuo.platform.db import open_database
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token

CHROMIUM = "/usr/bin/chromium"
FAST = Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
SHOTS = Path(os.environ.get("FENGHUO_SCREENSHOTS", Path(__file__).resolve().parents[2] / ".ci" / "out" / "screenshots"))
XSS = '<img src=x onerror="window.__xss=1">'

# national → two provinces → a city; providers in each province; a service whose name is markup.
REGISTRY = f"""
jurisdictions:
  - {{id: cn, name: 全国, level: national}}
  - {{id: cn-bj, name: 北京市, level: provincial, parent: cn}}
  - {{id: cn-bj-hd, name: 海淀区, level: city, parent: cn-bj}}
  - {{id: cn-sh, name: 上海市, level: provincial, parent: cn}}
providers:
  - {{id: pa, name: Provider A, jurisdiction: cn-bj}}
  - {{id: pb, name: Provider B, jurisdiction: cn-sh}}
services:
  - {{id: open-chat, name: 开放聊天, provider: pa, jurisdiction: cn-bj-hd, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false, backup_model: small-model}}
  - {{id: xss-svc, name: '{XSS}', provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}}
  - {{id: sh-chat, name: 上海聊天, provider: pb, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}}
"""


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is started, and every later test that calls asyncio.run() would fail with
# "cannot be called from a running event loop" if the browser outlived tests/console.
@pytest.fixture(scope="package")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run installs it with apt")
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    yield b
    b.close()
    pw.stop()


class Console:
    """A running control plane with its console, and tokens for each role."""

    def __init__(self, db, server):
        self.db, self.server, self.url = db, server, server.url
        me = local_actor()
        self.tokens = {
            "admin": create_token(db, me, "console-admin", Role.admin),
            "operator": create_token(db, me, "ops-a", Role.operator, provider_id="pa"),
            "operator_b": create_token(db, me, "ops-b", Role.operator, provider_id="pb"),
            "regulator": create_token(db, me, "cac-bj", Role.regulator, jurisdiction_id="cn-bj"),
            "auditor": create_token(db, me, "audit", Role.auditor),
        }

    def login(self, page, who: str) -> None:
        page.goto(f"{self.url}/login")
        page.fill("#token", self.tokens[who])
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.url}/")


@pytest.fixture
def console(tmp_path):
    db = open_database(str(tmp_path / "console.db"))
    registry.register(db, local_actor(), parse_registration(REGISTRY))
    server = ServerThread(db, FAST).__enter__()
    yield Console(db, server)
    server.__exit__(None, None, None)
    db.dispose()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    p = context.new_page()
    p.set_default_timeout(30000)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.js_errors = errors
    yield p
    context.close()


UNLABELLED = """Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea, button'))
  .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim() : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML.slice(0, 80))"""


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under SHOTS (the test output), and check on the way that
    every field of the page has a label and every button a name (accessibility)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    unlabelled = page.evaluate(UNLABELLED)
    assert not unlabelled, f"{name}: fields without a label: {unlabelled}"
    return path
