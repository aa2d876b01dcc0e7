"""A scrape-only token (role ``scraper``): reads the control plane's /metrics — for the services
in its scope, like an auditor — and nothing else (issue 15)."""

from __future__ import annotations

import httpx

from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token


def test_scraper_reads_metrics_and_nothing_else(cp_db, control):
    tok = create_token(cp_db, local_actor(), "prometheus", Role.scraper)
    h = {"Authorization": f"Bearer {tok}"}
    r = httpx.get(f"{control.url}/metrics", headers=h, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'service="open-chat"' in r.text  # a deployment-wide scraper sees every service's series
    for method, path in (("GET", "/api/v1/services"), ("GET", "/api/v1/services/open-chat"),
                         ("POST", "/api/v1/services/open-chat/commands"), ("POST", "/api/v1/events")):
        r = httpx.request(method, f"{control.url}{path}", headers=h, json={"action": "pause", "reason": "x"}, timeout=10)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert "/metrics" in r.text
    assert httpx.get(f"{control.url}/metrics", timeout=10).status_code == 401  # still needs a token


def test_a_scoped_scraper_reads_its_scope(cp_db, control):
    tok = create_token(cp_db, local_actor(), "prom-other", Role.scraper, jurisdiction_id="cn")
    r = httpx.get(f"{control.url}/metrics", headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200 and 'service="open-chat"' in r.text
    tok = create_token(cp_db, local_actor(), "prom-pa", Role.scraper, provider_id="pa")
    r = httpx.get(f"{control.url}/metrics", headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200 and 'service="open-chat"' in r.text and 'service="closed-med"' in r.text
