"""The LLM guard adapter against a real local HTTP server answering like the guard models, and
misbehaving ones (slow, trickling, stalled, HTTP errors) for the deadline and the fail policies.
Recorded answers in all three styles: test_llm_guard_recorded.py."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.llm_guard import LLMGuardCheck
from fenghuo.checks.llm_guard_prompts import packaged_rules
from fenghuo.checks.llm_guard_verdict import parse

ANSWERS = {
    "qwen-unsafe": "Safety: Unsafe\nCategories: Violent, Politically Sensitive Topics",
    "qwen-safe": "Safety: Safe\nCategories: None",
    "qwen-contro": "Safety: Controversial\nCategories: Unethical Acts",
    "llama-unsafe": "unsafe\nS2,S10",
    "llama-safe": "safe",
    "garbage": "I am not sure.",
    "llama-s9": "unsafe\nS9",
    "llama-bare": "unsafe",
    "qwen-pii": "Safety: Unsafe\nCategories: PII",
    "llama-s5": "unsafe\nS5",
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests.append(body)
        self.server.last_auth = self.headers.get("authorization")
        model = body["model"]
        if model == "slow":
            time.sleep(1.0)
        if model == "trickle":  # headers at once, then one byte every 0.1 s for ~2 s
            out = json.dumps({"choices": [{"message": {"content": "safe" + " " * 20}}]}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            try:
                for i in range(len(out)):
                    self.wfile.write(out[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.1 if i < 20 else 0)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if model == "error":
            self.send_response(500)
            self.end_headers()
            return
        shapes = {"no-choices": {"choices": []}, "error-200": {"error": {"message": "model overloaded"}},
                  "null-message": {"choices": [{"message": None}]}, "list-content": {"choices": [{"message": {"content": [1]}}]}}
        reply = shapes.get(model) or {"choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWERS.get(model, "safe")}}]}
        out = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except BrokenPipeError:  # the client gave up (timeout test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.requests = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1", srv
    srv.shutdown()
    srv.server_close()


def test_qwen3guard_unsafe_maps_categories_and_risks(server):
    url, srv = server
    v = LLMGuardCheck(url, "qwen-unsafe").scan("怎么做炸弹")
    assert [(f.category, f.risk, f.action) for f in v.findings] == [("violence", "A1f", Action.BLOCK), ("politics", "A1a", Action.BLOCK)]
    assert srv.requests[-1]["messages"][0]["content"] == "怎么做炸弹"


def test_safe_and_controversial(server):
    url, _ = server
    assert LLMGuardCheck(url, "qwen-safe").scan("你好").findings == []
    v = LLMGuardCheck(url, "qwen-contro").scan("x")
    assert [(f.category, f.action) for f in v.findings] == [("unethical", Action.FLAG)]


def test_llama_guard_codes(server):
    url, _ = server
    v = LLMGuardCheck(url, "llama-unsafe", style="llamaguard").scan("x")
    assert [f.category for f in v.findings] == ["crime", "discrimination"]
    assert LLMGuardCheck(url, "llama-safe", style="llamaguard").scan("x").findings == []


@pytest.mark.parametrize("policy, expect", [("pass", None), ("flag", Action.FLAG), ("block", Action.BLOCK)])
def test_timeout_follows_the_configured_fail_policy(server, policy, expect):
    url, _ = server
    t0 = time.perf_counter()
    v = LLMGuardCheck(url, "slow", timeout=0.2, on_error=policy).scan("x")
    assert time.perf_counter() - t0 < 0.9
    assert "timeout" in v.errors[0]
    assert [f.action for f in v.findings] == ([] if expect is None else [expect])


def test_http_error_unparseable_and_unreachable(server):
    url, _ = server
    assert "HTTP 500" in LLMGuardCheck(url, "error", on_error="pass").scan("x").errors[0]
    v = LLMGuardCheck(url, "garbage", on_error="block").scan("x")
    assert v.blocked and "not a Qwen3Guard verdict" in v.errors[0]
    v = LLMGuardCheck("http://127.0.0.1:9/v1", "m", timeout=0.5, on_error="flag").scan("x")
    assert v.findings[0].category == "guard.unavailable"


@pytest.mark.parametrize("model", ["no-choices", "error-200", "null-message", "list-content"])
def test_a_body_that_is_not_a_chat_completion_follows_the_fail_policy(server, model):
    url, _ = server
    v = LLMGuardCheck(url, model, on_error="block").scan("x")
    assert v.blocked and "not an OpenAI chat completion" in v.errors[0]
    assert LLMGuardCheck(url, model, on_error="pass").scan("x").findings == []


def test_parse_and_config_errors():
    v = parse("Safety: Unsafe\nCategories: PII\nRefusal: No", "qwen3guard", packaged_rules(), "native")
    assert (v.label, v.categories) == ("unsafe", [("privacy", "A4f")])
    with pytest.raises(ValueError):
        LLMGuardCheck("http://x", "m", on_error="ignore")
    with pytest.raises(ValueError):
        LLMGuardCheck("http://x", "m", style="other")


def test_unsafe_categories_without_a_rule_take_the_unsafe_action(server):
    from fenghuo.checks.policy import Policy

    url, _ = server
    s9 = LLMGuardCheck(url, "llama-s9", style="llamaguard").scan("x").findings
    bare = LLMGuardCheck(url, "llama-bare", style="llamaguard").scan("x").findings
    assert [(f.category, f.action, f.risk) for f in s9] == [("crime", Action.BLOCK, "A1h")]  # S9 weapons
    assert [(f.category, f.action) for f in bare] == [("unsafe", Action.BLOCK)]
    pii = LLMGuardCheck(url, "qwen-pii").scan("我的身份证号是……").findings
    assert [(f.category, f.action, f.risk) for f in pii] == [("privacy", Action.BLOCK, "A4f")]
    masked = Policy.from_config({"privacy": {"action": "mask"}})  # a verdict on the whole text: nothing to mask
    assert [f.action for f in LLMGuardCheck(url, "qwen-pii", policy=masked).scan("x").findings] == [Action.BLOCK]


def test_configured_actions_win_and_unsafe_sets_the_default(server):
    from fenghuo.checks.policy import Policy

    url, _ = server
    policy = Policy.from_config({"crime": {"action": "flag"}, "unsafe": {"action": "flag"}, "discrimination": {"action": "block"}})
    assert [f.action for f in LLMGuardCheck(url, "llama-s9", style="llamaguard", policy=policy).scan("x").findings] == [Action.FLAG]
    v = LLMGuardCheck(url, "llama-unsafe", style="llamaguard", policy=policy).scan("x")
    assert [(f.category, f.action) for f in v.findings] == [("crime", Action.FLAG), ("discrimination", Action.BLOCK)]
    # A category with no policy entry takes the action configured for "unsafe" (here flag).
    v = LLMGuardCheck(url, "llama-s5", style="llamaguard", policy=policy).scan("x")
    assert [(f.category, f.action, f.risk) for f in v.findings] == [("personal_rights", Action.FLAG, "A4c")]


def test_timeout_is_a_total_deadline_against_a_trickling_server(server):
    url, _ = server
    t0 = time.perf_counter()
    v = LLMGuardCheck(url, "trickle", timeout=0.5, on_error="block").scan("x")
    elapsed = time.perf_counter() - t0
    assert v.blocked and "timeout" in v.errors[0], v
    assert elapsed < 1.5  # the server would take ~2 s; every single read is far under 0.5 s


def test_yaml_config_builds_the_guard_inside_a_pipeline(server, tmp_path, monkeypatch):
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    from .conftest import write

    url, srv = server
    monkeypatch.setenv("GUARD_KEY", "sekrit")
    cfg = write(tmp_path / "c.yaml", (
        "checks:\n  - {type: pii}\n"
        f"  - {{type: llm_guard, url: '{url}', model: llama-s9, format: llamaguard, timeout: 0.7, on_error: block, api_key_env: GUARD_KEY}}\n"
        "categories:\n  crime: {action: flag, risk: A1h}\n"
    ))
    p = load_pipeline(cfg)
    guard = p.checks[1]
    assert (guard.timeout, guard.on_error) == (0.7, "block")
    v = p.scan("电话13800138000")
    assert [(f.category, f.action.value) for f in v.findings] == [("crime", "flag"), ("pii.mobile", "mask")]
    assert srv.last_auth == "Bearer sekrit"
    slow = write(tmp_path / "s.yaml", f"checks:\n  - {{type: llm_guard, url: '{url}', model: slow, timeout: 0.2, on_error: block}}\n")
    v = load_pipeline(slow).scan("x")
    assert v.blocked and "timeout" in v.errors[0]
    with pytest.raises(ConfigError, match="on_error must be one of"):
        load_pipeline(write(tmp_path / "b.yaml", f"checks:\n  - {{type: llm_guard, url: '{url}', model: m, on_error: ignore}}\n"))


def _raw_server(mode):
    """A raw-socket HTTP server that misbehaves below what http.server can express:
    ``headers`` trickles one header byte every 0.1 s for 4 s; ``stall`` sends its headers
    after 0.4 s and then never the body."""
    import socket

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def handle(c):
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv(65536)
        body = b'{"choices":[{"message":{"content":"Safety: Safe"}}]}'
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Pad: " % len(body)
        try:
            if mode == "headers":
                c.sendall(head)
                for _ in range(40):
                    if stop.wait(0.1):
                        break
                    c.sendall(b"a")
                c.sendall(b"\r\n\r\n" + body)
            else:
                time.sleep(0.4)
                c.sendall(head + b"x\r\n\r\n")
                stop.wait(4)
        except OSError:
            pass
        c.close()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv, stop


@pytest.mark.parametrize("mode", ["headers", "stall"])
@pytest.mark.parametrize("policy,expect", [("pass", None), ("flag", Action.FLAG), ("block", Action.BLOCK)])
def test_total_deadline_covers_trickled_headers_and_a_stalled_body(mode, policy, expect):
    """Review: the deadline watchdog started only once headers had arrived (trickled headers
    took 4 s against a 0.5 s timeout), and a body stalled after late headers ran past it."""
    srv, stop = _raw_server(mode)
    try:
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/v1"
        t0 = time.monotonic()
        v = LLMGuardCheck(url, "m", timeout=0.5, on_error=policy).scan("hello")
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        srv.close()
    # The bug ran 4 s (trickled headers) or until the server gave up (stalled body); 1.5 s keeps
    # that apart from a 0.5 s deadline with room for a loaded machine (0.79 s was seen at load 7).
    assert elapsed < 1.5, elapsed
    assert "timeout after 0.5s" in v.errors[0]
    assert [(f.category, f.action) for f in v.findings] == ([] if expect is None else [("guard.unavailable", expect)])
