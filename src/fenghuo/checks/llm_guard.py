"""A check that asks a safety model (Qwen3Guard-, ShieldLM- or Llama-Guard-style) behind an
OpenAI-compatible endpoint (vLLM, SGLang, Ollama…) and maps its verdict onto our categories and
TC260-003 risk codes (issue 12 item 8).

The pieces: ``llm_guard_rules.yaml`` holds our per-category rule text and the label tables
(data); ``llm_guard_prompts`` builds the request for a style and prompting mode (our rules sent
as an instruction prompt, as chat-template categories, or not at all for a model whose template
fixes its policy); ``llm_guard_verdict`` reads the answer; this module does the call, the
deadline, the fail policy and the findings.

Two modes: ``scan(text)`` judges one text (a prompt, or any text); ``scan_pair(prompt, answer)``
judges the answer as a reply to the prompt — a refusal that names the topic is safe, a mild
compliance with a harmful request is not — and its findings index the answer.

A guard model is slow and remote, so what happens when it does not answer in time (or answers
something unreadable) is a deployment decision, not ours: ``on_error`` is ``pass`` (fail open:
record the error, find nothing), ``flag`` or ``block`` (fail closed: one finding over the whole
text, category ``guard.unavailable``). ``fail_open: true|false`` in the YAML is shorthand for
``pass`` / ``block``.

An "unsafe" verdict's categories take the action the policy gives them; a category with no
policy entry (``business``) or whose action is ``mask`` (a verdict covers the whole text, there
is nothing to mask) takes the action of ``unsafe`` — block unless configured otherwise — so a
verdict never comes out weaker than a bare "unsafe". "Controversial" is always a flag.

The timeout is a total deadline for the call (connect, send, and every byte of the answer):
httpx's own timeouts are per phase, so a server trickling one byte at a time would never
trip them; the call runs on a thread and the check stops waiting at the deadline (``ask``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.checks.llm_guard_prompts import DEFAULT_PROMPTING, LANGS, PROMPTINGS, STYLES, GuardRules, packaged_rules, request_body
from fenghuo.checks.llm_guard_verdict import GuardVerdict, logprob_score, parse
from fenghuo.checks.policy import Policy

FAIL_POLICIES = ("pass", "flag", "block")
# Enough tokens for the verdict lines; ShieldLM writes its verdict first and then an analysis
# that cites the rules, which is where its categories come from.
MAX_TOKENS = {"qwen3guard": 64, "llamaguard": 32, "shieldlm": 192}


class GuardUnavailable(Exception):
    pass


class LLMGuardCheck:
    def __init__(
        self,
        url: str,
        model: str,
        style: str = "qwen3guard",
        timeout: float = 2.0,
        on_error: str = "flag",
        api_key: str | None = None,
        policy: Policy | None = None,
        name: str = "llm_guard",
        role: str = "user",
        prompting: str | None = None,
        lang: str = "zh",
        categories: list[str] | None = None,
        logprobs: bool = False,
        max_tokens: int | None = None,
        rules: GuardRules | None = None,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r} / 输出风格无效")
        prompting = prompting or DEFAULT_PROMPTING[style]
        if prompting not in PROMPTINGS:
            raise ValueError(f"prompting must be one of {', '.join(PROMPTINGS)}, got {prompting!r} / 提示方式无效")
        if prompting == "template" and style != "llamaguard":
            raise ValueError(
                f"prompting 'template' works only with llamaguard (our rules as its chat-template categories); {style} "
                "has no such template argument: use 'rules' or 'native' / 只有 llamaguard 支持 template"
            )
        if lang not in LANGS:
            raise ValueError(f"lang must be zh or en, got {lang!r} / 语言无效")
        if on_error not in FAIL_POLICIES:
            raise ValueError(f"on_error must be one of {', '.join(FAIL_POLICIES)}, got {on_error!r} / 失败策略无效")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout} / 超时必须为正")
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model, self.style, self.timeout, self.on_error, self.role = model, style, timeout, on_error, role
        self.prompting, self.lang, self.logprobs = prompting, lang, logprobs
        self.max_tokens = int(max_tokens or MAX_TOKENS[style])
        # Answers are read against every rule (a model may name one outside the subset, which is
        # then dropped, not mistaken for an unknown label); only the subset is sent.
        self.all_rules = rules or packaged_rules()
        self.rules = self.all_rules.subset(categories)
        self.subset = {r.category for r in self.rules.rules}
        self._risk = {r.category: r.risk for r in self.all_rules.rules}
        self.policy = policy or Policy()
        self.name = name
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers, trust_env=False)

    # -- the call ----------------------------------------------------------------------------

    def body(self, text: str, answer: str | None = None) -> dict:
        body = request_body(self.rules, self.style, self.prompting, self.lang, self.model, text, answer, self.role)
        body["max_tokens"] = self.max_tokens
        if self.logprobs:
            body["logprobs"], body["top_logprobs"] = True, 5
        return body

    def ask(self, body: dict) -> dict:
        """The first choice of the completion (``message`` and ``logprobs``)."""
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
            except Exception as exc:  # noqa: BLE001 - any transport failure (refused, reset, timeout) becomes the configured fail policy
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
            choice = json.loads(out["content"])["choices"][0]
            if not isinstance(choice["message"].get("content") or "", str):
                raise TypeError
            return choice
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise GuardUnavailable("response is not an OpenAI chat completion") from None

    def judge(self, text: str, answer: str | None = None) -> GuardVerdict:
        """The model's verdict; ``GuardUnavailable`` or ``ValueError`` (unreadable answer)."""
        choice = self.ask(self.body(text, answer))
        verdict = parse(choice["message"].get("content") or "", self.style, self.all_rules, self.prompting)
        if verdict.score is None and self.logprobs:
            verdict.score = logprob_score(choice.get("logprobs"), self.style)
        return verdict

    # -- findings ----------------------------------------------------------------------------

    def _configured(self, category: str):
        """The policy rule for ``category`` or a dotted prefix of it, None if there is none."""
        name = category
        while True:
            if name in self.policy.rules:
                return self.policy.rules[name]
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]

    def risk_for(self, category: str) -> str | None:
        """The risk code a finding of ``category`` carries when the model's label names none:
        the policy's, else our rule's first code, else that of ``unsafe``."""
        rule = self._configured(category)
        return (rule.risk if rule is not None else None) or self._risk.get(category) or self.policy.rule("unsafe").risk

    def categories(self) -> set[str]:
        """Every category this guard can report (``fenghuo checks coverage``); a label the
        model's table maps to another code (S5 → A4c) still reports one of these."""
        return set(self.subset) | {"unsafe", "controversial"}

    def _finding(self, category: str, risk: str | None, length: int, action: Action | None, score: float | None) -> Finding:
        """Action: the category's configured one, else (none, or ``mask``) that of ``unsafe``.
        Risk: the one the model's label names, else :meth:`risk_for`."""
        rule = self._configured(category)
        unsafe = self.policy.rule("unsafe")
        act = rule.action if rule is not None and rule.action is not Action.MASK else unsafe.action
        return Finding(category, 0, length, f"llm_guard:{self.model}", action or act, risk or self.risk_for(category), score)

    def findings(self, verdict: GuardVerdict, length: int) -> list[Finding]:
        if verdict.label == "safe":
            return []
        # Categories outside the configured subset are the deployment's choice not to act on;
        # labels we cannot map (guard.*) are kept: the model said unsafe.
        cats = [(c, r) for c, r in verdict.categories if c in self.subset or c.startswith("guard.")]
        if verdict.categories and not cats:
            return []
        action = Action.FLAG if verdict.label == "controversial" else None
        default = "unsafe" if verdict.label == "unsafe" else "controversial"
        return [self._finding(c, r, length, action, verdict.score) for c, r in cats or [(default, None)]]

    def _verdict(self, text: str, answer: str | None) -> Verdict:
        t0 = time.perf_counter()
        judged = text if answer is None else answer
        findings, errors = [], []
        try:
            findings = self.findings(self.judge(text, answer), len(judged))
        except (GuardUnavailable, ValueError) as exc:
            errors.append(f"{self.name}: {exc} (on_error={self.on_error})")
            if self.on_error != "pass":
                act = Action.BLOCK if self.on_error == "block" else Action.FLAG
                findings = [Finding("guard.unavailable", 0, len(judged), f"llm_guard:{self.model}", act, None)]
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,), errors)

    def scan(self, text: str) -> Verdict:
        """Judge ``text`` alone (a prompt, or any text)."""
        return self._verdict(text, None)

    def scan_pair(self, prompt: str, answer: str) -> Verdict:
        """Judge ``answer`` as the model's reply to ``prompt``; spans index the answer."""
        return self._verdict(prompt, answer)


KEYS = {
    "name", "endpoint", "url", "model", "style", "format", "prompting", "lang", "timeout", "on_error", "fail_open",
    "api_key_env", "role", "categories", "logprobs", "max_tokens",
}  # fmt: skip


def _one_of(spec: dict, new: str, old: str, default=None):
    """``new`` or its older name ``old`` (configs written before the rename keep working)."""
    if new in spec and old in spec:
        raise ValueError(f"give '{new}' or '{old}', not both / 只能给出其中一个")
    return spec.get(new, spec.get(old, default))


def from_config(spec: dict, policy: Policy, base_dir: Path) -> LLMGuardCheck:
    from fenghuo.checks.config import check_keys

    check_keys(spec, KEYS, "llm_guard")
    url = _one_of(spec, "endpoint", "url")
    if not url or "model" not in spec:
        raise ValueError("llm_guard needs 'endpoint' and 'model' / 需要 endpoint 与 model")
    on_error = spec.get("on_error")
    if "fail_open" in spec:
        if on_error is not None:
            raise ValueError("give 'fail_open' or 'on_error', not both / 只能给出其中一个")
        if not isinstance(spec["fail_open"], bool):
            raise ValueError(f"fail_open must be true or false, got {spec['fail_open']!r} / 应为 true 或 false")
        on_error = "pass" if spec["fail_open"] else "block"
    key = None
    if spec.get("api_key_env"):
        key = os.environ.get(str(spec["api_key_env"]))
        if not key:
            raise ValueError(f"api_key_env: environment variable {spec['api_key_env']} is not set / 环境变量未设置")
    cats = spec.get("categories")
    if cats is not None and (not isinstance(cats, list) or not all(isinstance(c, str) for c in cats)):
        raise ValueError("llm_guard categories: expected a list of category names / 应为类别名列表")
    return LLMGuardCheck(
        str(url), str(spec["model"]), str(_one_of(spec, "style", "format", "qwen3guard")), float(spec.get("timeout", 2.0)),
        str(on_error or "flag"), key, policy, str(spec.get("name", "llm_guard")), str(spec.get("role", "user")),
        spec.get("prompting"), str(spec.get("lang", "zh")), cats, bool(spec.get("logprobs", False)),
        int(spec["max_tokens"]) if spec.get("max_tokens") else None,
    )  # fmt: skip
