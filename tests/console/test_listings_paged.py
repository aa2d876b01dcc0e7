"""The console's other listings page like the API's (issue 19): incidents, warnings and complaints
a keyset page of 100 with a next link and a link back to the first page; a cursor the listing did
not give is a 422 naming it in 中文 and English, not a 500."""

from __future__ import annotations

import re
from contextlib import closing

from fenghuo.platform.roles import local_actor
from fenghuo.response import incidents

from .test_forms_http import logged_in


def test_incidents_page_a_hundred_at_a_time(console):
    made = set()
    for i in range(101):  # one open incident per service at a time: end each before the next
        inc = incidents.open_incident(console.db, local_actor(), "open-chat", "IV", f"事件 {i}")
        incidents.end_handling(console.db, local_actor(), inc["id"], "处置结束")
        made.add(inc["id"])
    with closing(logged_in(console, "operator")) as c:
        html = c.get("/incidents").text
        first = re.findall(r'<tr><td><a href="/incidents/([^"]+)">', html)
        assert len(first) == 100
        nxt = re.search(r'<a href="(/incidents\?[^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
        html = c.get(nxt).text
        second = re.findall(r'<tr><td><a href="/incidents/([^"]+)">', html)
        assert set(first) | set(second) == made and len(second) == 1
        assert 'rel="next"' not in html and 'href="/incidents?">' in html  # back to the first page
        html = c.get("/incidents?status=ended").text
        assert "status=ended&amp;after=" in html
    with closing(logged_in(console, "operator_b")) as c:
        assert re.findall(r'<tr><td><a href="/incidents/([^"]+)">', c.get("/incidents").text) == []  # another provider's


def test_a_cursor_the_listing_did_not_give_is_a_422(console):
    with closing(logged_in(console, "admin")) as c:
        for path in ("/incidents", "/warnings", "/complaints"):
            r = c.get(path, params={"after": "not-a-cursor"})
            assert r.status_code == 422 and "游标" in r.text, (path, r.status_code)
        c.cookies.set("fenghuo_lang", "en")
        r = c.get("/warnings", params={"after": "%%%"})
        assert r.status_code == 422 and "cursor" in r.text
