"""A check that asks a safety model (Qwen3Guard, Llama Guard) behind an OpenAI-compatible
endpoint (vLLM, SGLang, Ollama…) and maps its verdict onto our categories.

A guard model is slow and remote, so what happens when it does not answer in time is a
deployment decision, not ours: ``on_error`` is ``pass`` (record the error, find nothing),
``flag`` or ``block`` (one finding over the whole text, category ``guard.unavailable``).

An "unsafe" verdict's categories take the action the policy gives them; a category with no
policy entry (``weapons`` from Llama Guard S9) or whose action is ``mask`` (Qwen3Guard
``PII``: a verdict covers the whole text, there is nothing to mask) takes the action of
``unsafe`` — block unless configured otherwise. "Controversial" is always a flag.

The timeout is a total deadline for the call (connect, send, and every byte of the answer):
httpx's own timeouts are per phase, so a server trickling one byte at a time would never
trip them; the call runs on a thread and the check stops waiting at the deadline (``ask``).

Verdict formats parsed:
- Qwen3Guard-Gen: ``Safety: Safe|Unsafe|Controversial`` then ``Categories: A, B``
- Llama Guard 3/4: ``safe`` or ``unsafe`` then a line of codes ``S1,S10``
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.checks.policy import Policy

QWEN3GUARD = {
    "violent": "violence",
    "non-violent illegal acts": "crime",
    "sexual content or sexual acts": "porn",
    "pii": "pii",
    "suicide & self-harm": "self_harm",
    "unethical acts": "unethical",
    "politically sensitive topics": "politics",
    "copyright violation": "copyright",
    "jailbreak": "jailbreak",
}
LLAMAGUARD = {
    "S1": "violence", "S2": "crime", "S3": "porn", "S4": "porn", "S5": "defamation", "S6": "specialized_advice",
    "S7": "privacy", "S8": "copyright", "S9": "weapons", "S10": "discrimination", "S11": "self_harm",
    "S12": "porn", "S13": "disinformation", "S14": "crime",
}  # fmt: skip
# Risk codes for the guard-only categories (the rest are in policy.DEFAULT_RULES).
GUARD_RULES = {
    "unethical": "A4g", "copyright": "A3a", "jailbreak": None, "defamation": "A4c", "specialized_advice": "A5b",
    "privacy": "A4e", "weapons": "A1h", "disinformation": "A1g", "controversial": None,
}  # fmt: skip
FAIL_POLICIES = ("pass", "flag", "block")


class GuardUnavailable(Exception):
    pass


def parse_verdict(content: str, fmt: str) -> tuple[str, list[str]]:
    """('safe'|'unsafe'|'controversial', [our categories]); ValueError if unrecognised."""
    text = content.strip()
    if fmt == "qwen3guard":
        m = re.search(r"Safety:\s*(Safe|Unsafe|Controversial)", text, re.I)
        if not m:
            raise ValueError(f"not a Qwen3Guard verdict: {text[:80]!r}")
        label = m.group(1).lower()
        cats = []
        c = re.search(r"Categories:\s*(.+)", text, re.I)
        if c:
            for raw in c.group(1).split(","):
                key = raw.strip().lower()
                if key and key != "none":
                    cats.append(QWEN3GUARD.get(key, "guard." + re.sub(r"\W+", "_", key)))
        return label, cats
    if fmt == "llamaguard":
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if not lines or lines[0].lower() not in ("safe", "unsafe"):
            raise ValueError(f"not a Llama Guard verdict: {text[:80]!r}")
        if lines[0].lower() == "safe":
            return "safe", []
        codes = re.findall(r"S\d+", " ".join(lines[1:]))
        return "unsafe", [LLAMAGUARD.get(code, f"guard.{code}") for code in codes]
    raise ValueError(f"unknown verdict format {fmt!r}; use qwen3guard or llamaguard")


class LLMGuardCheck:
    def __init__(
        self,
        url: str,
        model: str,
        fmt: str = "qwen3guard",
        timeout: float = 2.0,
        on_error: str = "flag",
        api_key: str | None = None,
        policy: Policy | None = None,
        name: str = "llm_guard",
        role: str = "user",
    ) -> None:
        if fmt not in ("qwen3guard", "llamaguard"):
            raise ValueError(f"format must be qwen3guard or llamaguard, got {fmt!r} / 判定格式无效")
        if on_error not in FAIL_POLICIES:
            raise ValueError(f"on_error must be one of {', '.join(FAIL_POLICIES)}, got {on_error!r} / 失败策略无效")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout} / 超时必须为正")
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model, self.fmt, self.timeout, self.on_error, self.role = model, fmt, timeout, on_error, role
        self.policy = policy or Policy()
        self.name = name
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers, trust_env=False)

    def ask(self, text: str) -> str:
        body = {"model": self.model, "messages": [{"role": self.role, "content": text}], "max_tokens": 64, "temperature": 0}
        expired = f"timeout after {self.timeout}s"
        # The call runs on its own thread and the caller stops waiting at the deadline, whatever
        # phase the call is in (connect, a server trickling its headers, a stalled body): httpx
        # cannot be interrupted from outside, and its timeouts are per phase. An abandoned call
        # ends on its own when httpx's per-phase timeout or the server ends it; its answer is
        # dropped. (The shared client is not closed: other scans may be using it.)
        out: dict = {}
        done = threading.Event()

        def call() -> None:
            try:
                r = self.client.post(self.endpoint, json=body)
                out["status"], out["content"] = r.status_code, r.content
            except Exception as exc:  # refused, reset, httpx timeout...
                out["error"] = exc
            finally:
                done.set()

        threading.Thread(target=call, name=f"{self.name}-call", daemon=True).start()
        if not done.wait(self.timeout):
            raise GuardUnavailable(expired)
        exc = out.get("error")
        if isinstance(exc, httpx.TimeoutException):
            raise GuardUnavailable(expired)
        if exc is not None:
            raise GuardUnavailable(f"{type(exc).__name__}: {exc}")
        if out["status"] != 200:
            raise GuardUnavailable(f"HTTP {out['status']}")
        try:
            return json.loads(out["content"])["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise GuardUnavailable("response is not an OpenAI chat completion") from None

    def _configured(self, category: str):
        """The policy rule for ``category`` or a dotted prefix of it, None if there is none."""
        name = category
        while True:
            if name in self.policy.rules:
                return self.policy.rules[name]
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]

    def _finding(self, category: str, length: int, action: Action | None = None, score=None) -> Finding:
        """An "unsafe" finding takes its category's configured action; with none configured (or
        ``mask``, which cannot apply to a verdict on the whole text) it takes the action
        configured for ``unsafe`` (block by default): the model said unsafe, so it must never
        come out weaker than a bare "unsafe" verdict."""
        rule = self._configured(category)
        unsafe = self.policy.rule("unsafe")
        act = rule.action if rule is not None and rule.action is not Action.MASK else unsafe.action
        risk = rule.risk if rule is not None else GUARD_RULES.get(category, unsafe.risk)
        return Finding(category, 0, length, f"llm_guard:{self.model}", action or act, risk, score)

    def scan(self, text: str) -> Verdict:
        t0 = time.perf_counter()
        findings, errors = [], []
        try:
            label, cats = parse_verdict(self.ask(text), self.fmt)
            if label == "unsafe":
                findings = [self._finding(c, len(text)) for c in dict.fromkeys(cats or ["unsafe"])]
            elif label == "controversial":
                findings = [self._finding(c, len(text), Action.FLAG) for c in dict.fromkeys(cats or ["controversial"])]
        except (GuardUnavailable, ValueError) as exc:
            errors.append(f"{self.name}: {exc} (on_error={self.on_error})")
            if self.on_error != "pass":
                act = Action.BLOCK if self.on_error == "block" else Action.FLAG
                findings = [Finding("guard.unavailable", 0, len(text), f"llm_guard:{self.model}", act, None)]
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,), errors)


def from_config(spec: dict, policy: Policy, base_dir: Path) -> LLMGuardCheck:
    from fenghuo.checks.config import check_keys

    check_keys(spec, {"name", "url", "model", "format", "timeout", "on_error", "api_key_env", "role"}, "llm_guard")
    if "url" not in spec or "model" not in spec:
        raise ValueError("llm_guard needs 'url' and 'model' / 需要 url 与 model")
    import os

    key = os.environ.get(spec["api_key_env"]) if spec.get("api_key_env") else None
    return LLMGuardCheck(
        str(spec["url"]), str(spec["model"]), str(spec.get("format", "qwen3guard")), float(spec.get("timeout", 2.0)),
        str(spec.get("on_error", "flag")), key, policy, str(spec.get("name", "llm_guard")), str(spec.get("role", "user")),
    )  # fmt: skip
