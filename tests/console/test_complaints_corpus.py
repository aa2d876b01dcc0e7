"""The complaints page (CN-TC-17) and the corpus review page (CN-TC-26, CN-TC-11), over plain
HTTP (the forms work without script): file and handle a complaint through the forms, CSRF and
scope refusals, markup kept as text; a reviewer records verdicts on a sample drawn by
``fenghuo corpus sample``, the annotator is refused, the pass rate moves."""

from __future__ import annotations

import json
import re
from contextlib import closing

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.control import services as registry
from fenghuo.platform.db import open_database
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token

from .conftest import FAST, REGISTRY, XSS, Console
from .test_forms_http import csrf, logged_in

# Provider A publishes a 15-day handling limit; Provider B publishes none.
LIMITED = REGISTRY.replace("{id: pa, name: Provider A, jurisdiction: cn-bj}", "{id: pa, name: Provider A, jurisdiction: cn-bj, complaint_limit: 15d}")


@pytest.fixture
def console(tmp_path):
    db = open_database(str(tmp_path / "console.db"))
    registry.register(db, local_actor(), parse_registration(LIMITED))
    server = ServerThread(db, FAST).__enter__()
    c = Console(db, server)
    c.tokens["ann"] = create_token(db, local_actor(), "ann", Role.operator, provider_id="pa")  # the sample's annotator
    c.db_url = f"sqlite:///{tmp_path / 'console.db'}"
    yield c
    server.__exit__(None, None, None)
    db.dispose()


def api(console: Console, path: str, who: str = "admin") -> httpx.Response:
    return httpx.get(f"{console.url}/api/v1{path}", timeout=5, headers={"Authorization": f"Bearer {console.tokens[who]}"})


def test_a_complaint_is_filed_handled_and_closed_through_the_forms(console):
    with closing(logged_in(console, "operator")) as c:
        token, html = csrf(c, "/complaints")
        assert 'id="new-complaint"' in html and 'value="sh-chat"' not in html  # only its own provider's services
        r = c.post("/complaints", data={"service": "open-chat", "category": "complaint", "channel": "in_app",
                                        "content": f"回答有误 {XSS}", "contact": "user@example.com"})
        assert r.status_code == 403  # no CSRF token
        r = c.post("/complaints", data={"csrf": "0" * 40, "service": "open-chat", "category": "complaint", "content": "x"})
        assert r.status_code == 403
        assert api(console, "/complaints").json() == []
        r = c.post("/complaints", data={"csrf": token, "service": "open-chat", "category": "complaint", "channel": "in_app",
                                        "content": f"回答有误 {XSS}", "contact": "user@example.com"})
        assert r.status_code == 303, r.text
        cid = re.match(r"/complaints/(cpl-[\w-]+)", r.headers["location"]).group(1)
        ticket = api(console, f"/complaints/{cid}").json()
        assert ticket["status"] == "open" and ticket["channel"] == "in_app" and ticket["limit"] == "15d"
        assert ticket["created_by"] == "operator:ops-a@pa"
        html = c.get(f"/complaints/{cid}").text
        assert XSS not in html and "回答有误 &lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;" in html
        assert f'data-due="{ticket["due_at"]}"' in html and 'id="handle"' in html
        listed = c.get("/complaints?status=open&service=open-chat").text
        assert re.findall(r'data-complaint="([^"]+)"', listed) == [cid] and XSS not in listed
        assert re.findall(r'data-complaint="([^"]+)"', c.get("/complaints?status=closed").text) == []
        # filed through the API's own function: the complaint indicator counted it
        assert api(console, "/indicators/open-chat").json()["windows"]["1m"]["complaints"] == 1

        r = c.post(f"/complaints/{cid}/handle", data={"csrf": token, "result": "已更正知识库"})
        assert r.status_code == 303, r.text
        assert api(console, f"/complaints/{cid}").json()["status"] == "handled"
        assert 'id="feedback"' in c.get(f"/complaints/{cid}").text
        assert c.post(f"/complaints/{cid}/handle", data={"csrf": token, "result": "again"}).status_code == 409
        r = c.post(f"/complaints/{cid}/feedback", data={"csrf": token, "feedback": "已电话告知处理结果"})
        assert r.status_code == 303, r.text
        done = api(console, f"/complaints/{cid}").json()
        assert (done["status"], done["feedback_sent"], done["handled_by"]) == ("closed", True, "operator:ops-a@pa")
        assert re.findall(r'data-complaint="([^"]+)"', c.get("/complaints?status=closed").text) == [cid]


def test_complaints_out_of_scope_and_roles(console):
    with closing(logged_in(console, "operator_b")) as b:
        token, _ = csrf(b, "/complaints")
        r = b.post("/complaints", data={"csrf": token, "service": "sh-chat", "category": "report", "content": "举报 <b>x</b>"})
        assert r.status_code == 303, r.text
        sh = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
        html = b.get(f"/complaints/{sh}").text
        assert "无时限" in html and "<b>x</b>" not in html  # Provider B published no limit: the page says so
        assert b.post("/complaints", data={"csrf": token, "service": "open-chat", "category": "complaint",
                                           "content": "x"}).status_code in (403, 404)  # another provider's service
    with closing(logged_in(console, "operator")) as a:
        token, html = csrf(a, "/complaints")
        assert sh not in html
        assert a.get(f"/complaints/{sh}").status_code in (403, 404)
        assert a.post(f"/complaints/{sh}/handle", data={"csrf": token, "result": "x"}).status_code in (403, 404)
        assert a.post(f"/complaints/{sh}/feedback", data={"csrf": token, "feedback": "x"}).status_code in (403, 404)
    with closing(logged_in(console, "auditor")) as au:
        token, html = csrf(au, f"/complaints/{sh}")
        assert 'id="handle"' not in html and 'id="new-complaint"' not in csrf(au, "/complaints")[1]
        assert au.post(f"/complaints/{sh}/handle", data={"csrf": token, "result": "x"}).status_code == 403
    assert api(console, f"/complaints/{sh}").json()["status"] == "open"


MANIFEST = """name: console-corpus
organisation: Example Ltd
sources:
  - id: web-zh
    kind: open-source
    language: zh
    origin: domestic
    licence: licence.txt
    files: ["data.jsonl"]
    text_field: text
    metadata: {dataset: web-zh, organisation: Example}
"""


def _sample(console: Console, tmp_path) -> dict:
    (tmp_path / "licence.txt").write_text("CC-BY-4.0\n", encoding="utf-8")
    rows = [{"text": f"第 {i} 条样本文本", "url": f"https://example.cn/{i}"} for i in range(5)]
    rows[2]["text"] = f"含标记的样本 {XSS}"
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    from fenghuo.cli import root

    out = CliRunner().invoke(root, ["--db", console.db_url, "corpus", "sample", str(tmp_path / "manifest.yaml"), "--n", "5",
                                    "--seed", "3", "--annotator", "ann", "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_corpus_review_records_verdicts_with_the_sessions_reviewer(console, tmp_path):
    with closing(logged_in(console, "operator")) as c:
        assert "corpus sample" in c.get("/corpus").text  # no sample yet: the page says how to draw one
    sample = _sample(console, tmp_path)
    with closing(logged_in(console, "ann")) as ann:  # the annotator of every item
        token, html = csrf(ann, "/corpus")
        assert "data-item=" not in html  # nothing is offered to the annotator
        first = json.loads((console_home() / "corpus" / sample["run"] / "sample.jsonl").read_text().splitlines()[0])["id"]
        r = ann.post("/corpus/review", data={"csrf": token, "run": sample["run"], "item": first, "verdict": "pass"})
        assert r.status_code == 409 and "CN-TC-11" in r.text and "标注人不能审核自己标注的条目" in r.text
    with closing(logged_in(console, "operator")) as c:
        token, html = csrf(c, "/corpus")
        assert sample["run"] in html and 'data-n="0"' in html and "ops-a" in html and "0 / 5" in html
        assert XSS not in html
        for k in range(5):
            item = re.search(r'data-item="([^"]+)"', html).group(1)
            assert c.post("/corpus/review", data={"run": sample["run"], "item": item, "verdict": "pass"}).status_code == 403
            verdict = "fail" if k == 0 else "pass"
            r = c.post("/corpus/review", data={"csrf": token, "run": sample["run"], "item": item, "verdict": verdict,
                                               "note": "含不良信息" if verdict == "fail" else ""})
            assert r.status_code == 303, r.text
            html = c.get("/corpus").text
            assert f'data-passed="{k}" data-n="{k + 1}"' in html
        assert "data-item=" not in html and 'data-status="insufficient"' in html  # 4/5, and far fewer than 4,000
        assert "80.00 %" in html and "含不良信息" in html
        assert c.post("/corpus/review", data={"csrf": token, "run": "../../etc", "item": item, "verdict": "pass"}).status_code == 404
    with closing(logged_in(console, "auditor")) as au:
        token, html = csrf(au, "/corpus")
        assert 'data-n="5"' in html and 'id="review"' not in html
        assert au.post("/corpus/review", data={"csrf": token, "run": sample["run"], "item": item, "verdict": "pass"}).status_code == 403
    # the same reviews file and ledger entries as `fenghuo corpus review`
    reviews = [json.loads(x) for x in (console_home() / "corpus" / sample["run"] / "reviews.jsonl").read_text().splitlines()]
    assert [r["reviewer"] for r in reviews] == ["ops-a"] * 5
    from fenghuo.ledger import store as ledger

    with console.db.reader() as s:
        kinds = [e["kind"] for e in ledger.iter_entries(s, subject="corpus:console-corpus")]
    assert kinds.count("corpus.review") == 5


def console_home():
    import os
    from pathlib import Path

    return Path(os.environ["FENGHUO_HOME"])


def test_both_pages_in_a_browser(console, page, tmp_path):
    """One look in chromium: labels on every field, English switch, nothing wider than a phone."""
    from fenghuo.response import complaints

    from .conftest import shot

    complaints.file_complaint(console.db, local_actor(), "open-chat", "report", f"举报 {XSS}")
    _sample(console, tmp_path)
    console.login(page, "operator")
    page.goto(f"{console.url}/complaints")
    assert page.locator("tr[data-complaint] .countdown").count() == 1
    shot(page, "complaints")
    page.click("tr[data-complaint] a >> nth=0")
    shot(page, "complaint")
    page.goto(f"{console.url}/corpus")
    page.fill("#review-note", "")
    page.click("button[value=pass]")
    assert page.locator("#pass-rate").get_attribute("data-n") == "1"
    shot(page, "corpus-review")
    assert page.evaluate("window.__xss") is None and not page.js_errors
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/complaints", "/corpus"):
        page.goto(f"{console.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.goto(f"{console.url}/lang/en?next=/corpus")
    assert "Pass rate" in page.content()
    shot(page, "phone-corpus-en")
