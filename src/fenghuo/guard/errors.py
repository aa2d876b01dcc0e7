"""The refusals a guard gives, each with an HTTP status, a stable code and 中文 / English text.

The gateway turns them into OpenAI-style error bodies, the SDK raises them; so a caller reads
the same refusal either way:
``{"error": {"code": "service_paused", "message": "中文 / English", "incident": null, ...}}``.
"""

from __future__ import annotations

from typing import Any


class GuardError(Exception):
    status = 400
    code = "bad_request"
    type = "invalid_request_error"

    def __init__(self, zh: str, en: str, *, code: str | None = None, status: int | None = None, refusal: str | None = None,
                 incident: str | None = None, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(f"{zh} / {en}")
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
        return f"{self.zh} / {self.en}"

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "type": self.type, "param": None}
        if self.status in (429, 503):
            err["incident"] = self.incident
        if self.retry_after is not None:
            err["retry_after"] = self.retry_after
        err.update(self.details)
        return {"error": err}

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, int(self.retry_after + 0.999)))}


class ServiceRefused(GuardError):
    """The switch says no: paused, stopped, throttled, canary overflow, fail-closed."""

    status = 503
    type = "service_unavailable"


def paused(reason: str, incident: str | None, failsafe: bool = False) -> ServiceRefused:
    if failsafe:
        return ServiceRefused("守卫与控制面失联超过租期，按失效安全策略暂停服务", "the guard lost contact with the control plane "
                              "for longer than its lease; the service is paused by its fail-safe", code="service_paused",
                              refusal="failsafe", incident=incident, failsafe=True)
    why = f"：{reason}" if reason else ""
    return ServiceRefused(f"服务已暂停运行{why}", f"the service is paused{': ' + reason if reason else ''}", code="service_paused",
                          refusal="paused", incident=incident)


def stopped(reason: str, incident: str | None) -> ServiceRefused:
    return ServiceRefused(f"服务已被阻断（开关已关闭）{('：' + reason) if reason else ''}",
                          f"the service has been stopped (switch thrown){': ' + reason if reason else ''}",
                          code="service_stopped", refusal="stopped", incident=incident)


def throttled(rate: int, retry_after: float) -> ServiceRefused:
    e = ServiceRefused(f"服务限流中（每秒 {rate} 次），请 {retry_after:.2f} 秒后重试",
                       f"the service is throttled to {rate} requests/s; retry after {retry_after:.2f} s",
                       code="service_throttled", status=429, refusal="throttled", retry_after=round(retry_after, 3))
    e.type = "rate_limit_exceeded"
    return e


def canary_full(percent: int) -> ServiceRefused:
    return ServiceRefused(f"服务灰度恢复中（{percent}% 流量），本次请求未分配且无备份模型",
                          f"the service is resuming on {percent}% of traffic; this call was not admitted and there is no backup model",
                          code="service_canary", refusal="canary")


def no_backup(state: str = "degraded") -> ServiceRefused:
    """The switch sends this call to the backup model, and there is none to call."""
    if state == "canary":
        return ServiceRefused("服务灰度恢复中，本次调用应由备份模型回答，但未配置备份模型",
                              "the service is resuming on canary and this call goes to the backup model, but none is configured",
                              code="no_backup", refusal="canary")
    return ServiceRefused("服务已降级但守卫未配置备份模型", "the service is degraded but this guard has no backup model configured",
                          code="no_backup", refusal="paused")


def bad_request(zh: str, en: str, code: str = "invalid_request", param: str | None = None) -> GuardError:
    e = GuardError(zh, en, code=code, status=400)
    if param:
        e.details["param"] = param
    return e


class UpstreamError(GuardError):
    status = 502
    type = "upstream_error"


def upstream_timeout(seconds: float) -> UpstreamError:
    return UpstreamError(f"上游模型 {seconds:g} 秒内未响应", f"the upstream model did not answer within {seconds:g} s",
                         code="upstream_timeout", status=504)


def upstream_failed(zh: str, en: str, code: str = "upstream_error", **details: Any) -> UpstreamError:
    return UpstreamError(zh, en, code=code, **details)


def internal(exc: BaseException) -> GuardError:
    e = GuardError("守卫内部错误", f"internal guard error: {type(exc).__name__}", code="internal_error", status=500)
    e.type = "server_error"
    return e
