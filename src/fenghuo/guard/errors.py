"""The refusals a guard gives, each with an HTTP status, a stable code and 中文 / English text.

The gateway turns them into OpenAI-style error bodies, the SDK raises them; so a caller reads
the same refusal either way:
``{"error": {"code": "service_paused", "message": "中文 / English", "incident": null, ...}}``.

End users read a *public* message per state (:class:`Notices`: the bilingual default, or the
service's registration ``public:``); the operator's reason for a pause or stop stays on the
refusal (``reason``) for the event and the ledger, never in the body. Each refusal also says
whether a retry can help (``x-should-retry``, read by the official OpenAI clients) and when to
come back (``Retry-After``): a throttle from its rate, a pause or stop as configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAUSED = "服务暂停运行，请稍后再试 / The service is paused; please try again later."
STOPPED = "服务已被阻断（停止运行）/ The service has been stopped."


@dataclass(frozen=True, slots=True)
class Notices:
    """What end users are told when the switch refuses their call, per state, and the
    ``Retry-After`` (seconds, None: none) of a pause or stop. From the registration's ``public:``
    (``registry.spec.PublicNotices``); the operator's reason is never part of it."""

    paused: str = PAUSED
    stopped: str = STOPPED
    paused_retry_after: int | None = 300
    stopped_retry_after: int | None = 3600

    @classmethod
    def of(cls, cfg: dict[str, Any] | None) -> Notices:
        d = cls()
        if not cfg:
            return d
        return cls(cfg.get("paused") or d.paused, cfg.get("stopped") or d.stopped,
                   cfg.get("paused_retry_after") or d.paused_retry_after, cfg.get("stopped_retry_after") or d.stopped_retry_after)


DEFAULT_NOTICES = Notices()


class GuardError(Exception):
    status = 400
    code = "bad_request"
    type = "invalid_request_error"

    should_retry: bool | None = None  # x-should-retry: False where a retry cannot help (the OpenAI clients obey it)
    reason = ""  # the operator's reason (a pause, a stop): for events and logs, never in the body

    def __init__(self, zh: str, en: str, *, code: str | None = None, status: int | None = None, refusal: str | None = None,
                 incident: str | None = None, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(f"{zh} / {en}" if en else zh)
        self.zh, self.en = zh, en
        if code:
            self.code = code
        if status:
            self.status = status
        self.refusal = refusal  # monitor.schema.Refusal value, for the event
        self.incident = incident
        self.retry_after = retry_after
        self.details = details

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}" if self.en else self.zh

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "type": self.type, "param": None}
        if self.status in (429, 503):
            err["incident"] = self.incident
        if self.retry_after is not None:
            err["retry_after"] = self.retry_after
        err.update(self.details)
        return {"error": err}

    def headers(self) -> dict[str, str]:
        h: dict[str, str] = {}
        if self.retry_after is not None:
            h["Retry-After"] = str(max(1, int(self.retry_after + 0.999)))
            if self.retry_after <= 60:  # the OpenAI clients wait retry-after-ms (to the millisecond) up to 60 s
                h["retry-after-ms"] = str(max(1, int(self.retry_after * 1000)))
        if self.should_retry is not None:
            h["x-should-retry"] = "true" if self.should_retry else "false"
        return h

    @property
    def detail(self) -> str:
        """For the event: the code, the English text, and the operator's reason if any."""
        return f"{self.code}: {self.en or self.zh}" + (f" (reason: {self.reason})" if self.reason else "")


class ServiceRefused(GuardError):
    """The switch says no: paused, stopped, throttled, canary overflow, fail-closed."""

    status = 503
    type = "service_unavailable"


def _public(text: str, code: str, refusal: str, incident: str | None, retry_after: int | None, reason: str,
            **details: Any) -> ServiceRefused:
    e = ServiceRefused(text, "", code=code, refusal=refusal, incident=incident, retry_after=retry_after, **details)
    e.should_retry, e.reason = False, reason  # a pause or stop outlasts any client retry
    return e


def paused(reason: str, incident: str | None, failsafe: bool = False, notices: Notices = DEFAULT_NOTICES) -> ServiceRefused:
    if failsafe:
        return _public(notices.paused, "service_paused", "failsafe", incident, notices.paused_retry_after,
                       "the guard lost contact with the control plane for longer than its lease (fail-safe)", failsafe=True)
    return _public(notices.paused, "service_paused", "paused", incident, notices.paused_retry_after, reason)


def stopped(reason: str, incident: str | None, notices: Notices = DEFAULT_NOTICES) -> ServiceRefused:
    return _public(notices.stopped, "service_stopped", "stopped", incident, notices.stopped_retry_after, reason)


def throttled(rate: int, retry_after: float) -> ServiceRefused:
    e = ServiceRefused(f"服务限流中（每秒 {rate} 次），请 {retry_after:.2f} 秒后重试",
                       f"the service is throttled to {rate} requests/s; retry after {retry_after:.2f} s",
                       code="service_throttled", status=429, refusal="throttled", retry_after=round(retry_after, 3))
    e.type = "rate_limit_exceeded"
    return e


def user_suspended(reason: str, remaining: float | None) -> ServiceRefused:
    """One end user is suspended (CN-PO-09): 403, no retry can help; the reason is for events only."""
    e = ServiceRefused("您的账号已被暂停使用本服务", "your account is suspended from this service", code="user_suspended",
                       status=403, refusal="user", retry_after=None if remaining is None or remaining > 86400 else remaining)
    e.type, e.should_retry, e.reason = "permission_denied", False, reason
    return e


def user_restricted(rate: int, retry_after: float, reason: str) -> ServiceRefused:
    """One end user is restricted to ``rate`` calls a minute and has used them (CN-PO-09)."""
    e = ServiceRefused(f"您的账号受限（每分钟 {rate} 次），请 {retry_after:.0f} 秒后重试",
                       f"your account is restricted to {rate} requests per minute; retry after {retry_after:.0f} s",
                       code="user_restricted", status=429, refusal="user", retry_after=round(retry_after, 3))
    e.type, e.reason = "rate_limit_exceeded", reason
    return e


def canary_full(percent: int) -> ServiceRefused:
    # Admission is a coin toss per call: a retry may well be admitted (no x-should-retry: false).
    return ServiceRefused(f"服务灰度恢复中（{percent}% 流量），本次请求未分配且无备份模型",
                          f"the service is resuming on {percent}% of traffic; this call was not admitted and there is no backup model",
                          code="service_canary", refusal="canary", retry_after=1)


def no_backup(state: str = "degraded") -> ServiceRefused:
    """The switch sends this call to the backup model, and there is none to call."""
    if state == "canary":
        return ServiceRefused("服务灰度恢复中，本次调用应由备份模型回答，但未配置备份模型",
                              "the service is resuming on canary and this call goes to the backup model, but none is configured",
                              code="no_backup", refusal="canary")
    e = ServiceRefused("服务已降级但守卫未配置备份模型", "the service is degraded but this guard has no backup model configured",
                       code="no_backup", refusal="paused")
    e.should_retry = False  # a configuration gap: retrying within seconds cannot help
    return e


def bad_request(zh: str, en: str, code: str = "invalid_request", param: str | None = None) -> GuardError:
    e = GuardError(zh, en, code=code, status=400)
    if param:
        e.details["param"] = param
    return e


class UpstreamError(GuardError):
    status = 502
    type = "upstream_error"


class UpstreamRejected(UpstreamError):
    """The upstream refused the call with a 4xx (unknown model, bad parameter, its own rate
    limit, a bad key): its status and error object go to the caller as they came, marked
    ``x-fenghuo-error-source: upstream``, so a client reads the model server's answer and the
    OpenAI clients retry only what the upstream says may be retried (429, 408, 409)."""

    type = "invalid_request_error"

    def __init__(self, status: int, error: dict[str, Any], headers: dict[str, str]) -> None:
        msg = str(error.get("message") or "")[:300]
        super().__init__(f"上游模型拒绝了请求（{status}）：{msg}", f"the upstream model refused the call ({status}): {msg}",
                         code=str(error.get("code") or "upstream_rejected"), status=status)
        self.error = error
        self.upstream_headers = {k: v for k, v in headers.items() if k in PASSED_HEADERS}

    def body(self) -> dict[str, Any]:
        return {"error": self.error}

    def headers(self) -> dict[str, str]:
        return {**self.upstream_headers, "x-fenghuo-error-source": "upstream", "x-fenghuo-upstream-status": str(self.status)}


PASSED_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry", "x-request-id")


def upstream_timeout(seconds: float) -> UpstreamError:
    return UpstreamError(f"上游模型 {seconds:g} 秒内未响应", f"the upstream model did not answer within {seconds:g} s",
                         code="upstream_timeout", status=504)


def upstream_failed(zh: str, en: str, code: str = "upstream_error", **details: Any) -> UpstreamError:
    return UpstreamError(zh, en, code=code, **details)


def internal(exc: BaseException) -> GuardError:
    e = GuardError("守卫内部错误", f"internal guard error: {type(exc).__name__}", code="internal_error", status=500)
    e.type = "server_error"
    return e
