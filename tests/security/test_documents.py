"""Untrusted documents (issue 14, items 1 and 6): a YAML bomb, deep JSON and YAML, duplicate
keys and absurd numbers are refused quickly with 413/422 naming the limit, never a 500, a
blocked event loop or a memory blow-up; and a token that may not register or write rules is
refused before its body is parsed. One server for the module (SQLite), to keep it quick."""

from __future__ import annotations

import threading
import time
import tracemalloc

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform import documents
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.errors import DocumentLimit, DocumentTooLarge, Invalid
from fenghuo.platform.roles import Role
from fenghuo.platform.yamlfile import parse_yaml
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed

# 254 bytes; 9⁷ ≈ 4.8 million strings once every alias is followed.
BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdef", "bcdefg", strict=True)]
) + "\n"
# Ten levels of ten: 10¹⁰ nodes, ~350 bytes.
BIG_BOMB = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))


def test_bomb_is_refused_by_the_reader_in_well_under_a_tenth_of_a_second_and_little_memory():
    assert len(BOMB) < 300 and len(BIG_BOMB) < 600
    for text in (BOMB, BIG_BOMB):
        tracemalloc.start()
        t0 = time.perf_counter()
        with pytest.raises(DocumentLimit) as e:
            parse_yaml(text, "bomb.yaml")
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert took < 0.1, took
        assert peak < 5_000_000, peak
        assert e.value.details["limit"] == "max_nodes" and "bomb.yaml:" in e.value.message


def test_reader_limits_each_name_their_limit():
    with pytest.raises(DocumentLimit) as e:
        documents.load_yaml_data("[" * 50_000, "x")
    assert e.value.details["limit"] == "max_depth"
    with pytest.raises(DocumentLimit) as e:
        documents.load_yaml_data("a: &a [1, *a]\n", "x")  # a cycle nothing could walk
    assert "*a" in e.value.message
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (documents.LIMITS.max_aliases + 1)) + "]\n"
    with pytest.raises(DocumentLimit) as e:
        documents.load_yaml_data(many, "x")
    assert e.value.details["limit"] == "max_aliases"
    for n in (1_000, 100_000):
        with pytest.raises(DocumentLimit) as e:
            documents.load_json(b"[" * n + b"]" * n, "x")
        assert e.value.details["limit"] == "max_depth"
    with pytest.raises(DocumentTooLarge) as e:
        documents.load_json(b" " * (documents.LIMITS.max_bytes + 1), "x")
    assert e.value.status == 413 and e.value.details["limit"] == "max_bytes"
    # merge keys may override what they bring in; what ships still reads
    assert documents.load_yaml_data("x: &x {a: 1}\ny: {<<: *x, a: 2}\n")["y"] == {"a": 2}


def test_duplicate_key_names_file_and_line():
    with pytest.raises(Invalid) as e:
        parse_yaml("id: a\nname: A\nid: b\n", "svc.yaml")
    assert e.value.details["line"] == 3 and "svc.yaml:3" in e.value.message and "'id'" in e.value.message


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    db = Database(str(tmp_path_factory.mktemp("docs") / "fenghuo.db"))
    db.upgrade()
    seed(db)
    tokens = {
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "reg": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
        "auditor": create_token(db, ADMIN, "audit", Role.auditor),
        "admin": create_token(db, ADMIN, "root", Role.admin),
    }
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        def call(method, path, who=None, **kw):
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            headers.update(kw.pop("headers", {}))
            return http.request(method, path, headers=headers, **kw)
        call.url = server.url
        yield call
    db.dispose()


YAML = {"content-type": "application/yaml"}
JSON = {"content-type": "application/json"}


def test_roles_that_may_not_send_a_document_are_refused_before_it_is_read(api):
    for who in ("auditor", "reg"):  # neither registers services
        r = api("POST", "/api/v1/services", who, content=BIG_BOMB, headers=YAML)
        assert r.status_code == 403, (who, r.text)
    assert api("POST", "/api/v1/services", None, content=BIG_BOMB, headers=YAML).status_code == 401
    # checking a rule file changes nothing: an auditor may, and the bomb is refused by the reader
    r = api("POST", "/api/v1/rules/check", "auditor", content=BIG_BOMB, headers=YAML)
    assert r.status_code == 422 and r.json()["error"]["limit"] == "max_nodes", r.text


def test_bomb_over_http_is_422_naming_the_limit_and_the_loop_keeps_answering(api):
    answered: list[float] = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            t0 = time.perf_counter()
            api("GET", "/api/v1/services", "op_a")
            answered.append(time.perf_counter() - t0)

    t = threading.Thread(target=probe)
    t.start()
    try:
        for path, who in (("/api/v1/services", "op_a"), ("/api/v1/services", "admin"), ("/api/v1/rules/check", "reg")):
            for bomb in (BOMB, BIG_BOMB):
                t0 = time.perf_counter()
                r = api("POST", path, who, content=bomb, headers=YAML)
                assert time.perf_counter() - t0 < 5.0  # was 9–30 s (or the kernel killed the server)
                assert r.status_code == 422, (path, r.text)
                err = r.json()["error"]
                assert err["limit"] == "max_nodes" and "max_nodes" in err["message"]
    finally:
        stop.set()
        t.join()
    assert answered and max(answered) < 5.0  # a loop blocked by the parse would stall these for seconds


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_is_422_not_500(api, depth):
    body = b"[" * depth + b"]" * depth
    r = api("POST", "/api/v1/services", "op_a", content=body, headers=JSON)
    assert r.status_code == 422 and r.json()["error"]["limit"] == "max_depth", r.text
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    assert api("POST", "/api/v1/services", "op_a", content=nested, headers=JSON).status_code == 422
    r = api("POST", "/api/v1/events", "op_a", content=body, headers=JSON)
    assert r.status_code == 422 and "max_depth" in r.json()["error"]["message"], r.text
    ndjson = b'{"attributes": {"a":' + body + b"}}\n"  # NDJSON: one event, deep inside a known field
    r = api("POST", "/api/v1/events", "op_a", content=ndjson, headers=JSON)
    assert r.status_code in (200, 422) and "max_depth" in r.text, r.text


def test_deep_yaml_to_rules_check_is_422(api):
    r = api("POST", "/api/v1/rules/check", "reg", content="[" * 50_000, headers=YAML)
    assert r.status_code == 422 and r.json()["error"]["limit"] == "max_depth", r.text


def test_duplicate_key_in_a_registration_is_refused_with_its_line(api):
    body = ("id: a-dup\nname: A\nprovider: pa\nsector: general\nfunction: content_generation\n"
            "modalities: [text]\nreach: 10\nno_human_in_loop: false\nreach: 100000000\n")
    r = api("POST", "/api/v1/services", "op_a", content=body, headers=YAML)
    assert r.status_code == 422 and r.json()["error"]["line"] == 9, r.text
    assert api("GET", "/api/v1/services/a-dup", "op_a").status_code == 404


def test_throttle_rate_1e30_is_422_naming_the_field(api):
    for rate in (1e30, 10**30, 2**31):
        r = api("POST", "/api/v1/services/a-chat/commands", "op_a", json={"action": "throttle", "reason": "x", "rate": rate})
        assert r.status_code == 422, (rate, r.text)
        assert "rate" in r.json()["error"]["message"]
    r = api("POST", "/api/v1/services/a-chat/commands", "op_a", json={"action": "throttle", "reason": "x", "rate": 50})
    assert r.status_code == 200, r.text


DUP_IDS = """services:
  - {id: a-twin, name: First, provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 10, no_human_in_loop: false}
  - {id: a-twin, name: Second, provider: pa, sector: medical, function: decision_support,
     modalities: [text], reach: 1, no_human_in_loop: false}
"""


def test_duplicate_service_ids_in_one_file_are_refused_with_file_and_line(api, tmp_path):
    r = api("POST", "/api/v1/services", "op_a", content=DUP_IDS, headers=YAML)
    assert r.status_code == 422 and r.json()["error"]["line"] == 4 and "line 2" in r.text, r.text
    import yaml

    r = api("POST", "/api/v1/services", "op_a", json=yaml.safe_load(DUP_IDS))
    assert r.status_code == 422 and "a-twin" in r.text, r.text
    assert api("GET", "/api/v1/services/a-twin", "op_a").status_code == 404
    from click.testing import CliRunner

    from fenghuo.cli import root

    f = tmp_path / "twins.yaml"
    f.write_text(DUP_IDS, encoding="utf-8")
    out = CliRunner().invoke(root, ["--db", str(tmp_path / "x.db"), "service", "register", str(f)])
    assert out.exit_code == 1 and f"{f}:4" in out.output and "a-twin" in out.output, out.output
