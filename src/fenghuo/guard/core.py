"""The guard engine shared by the SDK and the gateway: admit a call by the switch state, check
its input and output, label the answer, and report it.

``Guard(service=…, control=URL, token=…)`` follows a control plane; ``Guard(service=…,
db=…)`` (embedded mode) reads the local database with no server at all. Everything a call
needs on its hot path is local: the state is a cache lookup, the checks run in-process, the
event goes to a queue.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fenghuo.guard import errors
from fenghuo.guard.checking import Checked, check_text, judge_answer, load_default_checks
from fenghuo.guard.dbwatch import DataVersion
from fenghuo.guard.follow import EmbeddedFollower, StreamFollower
from fenghuo.guard.ids import uuid7
from fenghuo.guard.input_verdicts import InputJob, InputVerdicts
from fenghuo.guard.labels import LabelConfig, Labeller
from fenghuo.guard.model_versions import ModelFollower, ModelRoute, saved_path, unknown
from fenghuo.guard.spool import default_dir as default_spool_dir
from fenghuo.guard.state import Effective, ServiceInfo, SwitchCache, load_state_file
from fenghuo.guard.telemetry import HttpSink, Sink, Telemetry
from fenghuo.guard.user_measures import WARNING, UserFollower, UserTable

log = logging.getLogger(__name__)
DEFAULT = object()  # "use the configured default" (distinct from an explicit None = off)
CAPTURE_CHARS = 2000  # capture_text=True keeps this much of each text
SAFE_ANSWER = "抱歉，这个问题我无法回答。/ Sorry, I can't help with that."


def _default_judge():
    """The shipped answer judge, or None (with a warning) when it cannot be loaded: the guard
    still runs its text checks; the events then carry no ``compliance_risk``."""
    try:
        from fenghuo.checks.context import default_judge

        return default_judge()
    except (ImportError, ValueError, OSError) as exc:
        log.warning("answer judge unavailable, answers are not judged in context / 上下文判定不可用: %s", exc)
        return None


class TokenBucket:
    """``rate`` calls per second with a burst of one second's worth."""

    def __init__(self, rate: int) -> None:
        self.rate = max(rate, 1)
        self.tokens = float(self.rate)
        self.at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0.0 if admitted, else the seconds until a call would be."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one admitted call goes, and under which state."""

    eff: Effective
    route: str  # primary | backup
    model: str | None  # backup: the backup model's name; primary: the approved version (CN-TC-18), None if none registered
    notice: str | None = None  # a warned end user's notice (CN-PO-09), shown with the answer


def _service_info(service: str, control: str | None, token: str | None, db, lease: float | None,
                  failsafe: str | None, backup_model: str | None, state_file: Path | None) -> tuple[ServiceInfo, dict | None, str]:
    """Registry facts for the cache: from the control plane, the local database, the state
    file — in that order — else safe defaults. Returns (info, bootstrap state, source)."""
    view, boot, source = None, None, "defaults"
    if control:
        try:
            r = httpx.get(f"{control.rstrip('/')}/api/v1/services/{service}", headers={"Authorization": f"Bearer {token}"}, timeout=3)
            if r.status_code == 200:
                view, source = r.json(), "control"
            elif r.status_code in (401, 403, 404):
                raise ValueError(f"控制面拒绝 / control plane refused: {r.text[:300]}")
        except httpx.HTTPError as exc:
            log.warning("control plane unreachable at start (%s); using state file or fail-safe", exc)
    elif db is not None:
        from fenghuo.control import services as registry
        from fenghuo.platform.roles import local_actor

        view, source = registry.get(db, local_actor(), service), "database"
    if view is None and state_file and state_file.exists():
        saved, boot = load_state_file(state_file)
        return ServiceInfo(service, failsafe or saved.failsafe_mode, lease or saved.lease_seconds,
                           backup_model or saved.backup_model, saved.primary_model, saved.provider, saved.public), boot, "state_file"
    if view is None:
        return ServiceInfo(service, failsafe or "closed", lease or 30.0, backup_model), None, source
    fs = (view.get("grade") or {}).get("defaults", {}).get("failsafe") or {}
    attrs = view.get("attributes") or {}
    return ServiceInfo(service, failsafe or fs.get("mode", "closed"), float(lease or fs.get("after_seconds", 30)),
                       backup_model or attrs.get("backup_model"), attrs.get("primary_model"), view.get("provider"),
                       attrs.get("public")), None, source


class Guard:
    def __init__(self, service: str, control: str | None = None, token: str | None = None, db=None, *,
                 instance: str | None = None, checks: Any = DEFAULT, labels: LabelConfig | bool | None = None,
                 label_key=None, lease: float | None = None, failsafe: str | None = None,
                 state_file: str | Path | None = None, sink: Sink | None | object = DEFAULT, spool_dir: str | Path | bool | None = None,
                 backup_model: str | None = None, has_backup: bool | None = None, safe_answer: str = SAFE_ANSWER,
                 kind: str = "sdk", ack_seconds: float = 5.0, follow: bool = True, capture_text: bool | int = False,
                 allow_degraded_checks: bool = False, judge: Any = DEFAULT, compliance_action: str = "flag",
                 user_poll_seconds: float = 1.0, label_waiver: str | None = None) -> None:
        if failsafe not in (None, "open", "closed"):
            raise ValueError("failsafe must be open or closed / 失效安全只能是 open 或 closed")
        self.service, self.control, self.kind = service, control, kind
        self.instance = instance or f"{kind}-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.state_file = Path(state_file) if state_file else None
        self.info, boot, self.info_source = _service_info(service, control, token, db, lease, failsafe, backup_model, self.state_file)
        self.cache = SwitchCache(self.info)
        if boot:
            self.cache.bootstrap(boot)
        self.has_backup = bool(self.info.backup_model) if has_backup is None else has_backup
        # The model version calls go to (CN-TC-18, guard.model_versions): learnt before the first
        # call (else the fail-safe decides), then a "model" event on the switch stream, or polled.
        # Asked here, with the registry's facts, before telemetry starts resending a spool.
        self.models = ModelRoute(service, self.info.failsafe_mode, saved_path(self.state_file))
        self.models_source = self.models.load(control=control, token=token, db=db)
        # What end users read when the switch refuses (the operator's reason goes to events only).
        self.notices = errors.Notices.of(self.info.public)
        # A configured check that cannot load refuses the start unless allowed (DegradedChecks).
        self.checks = load_default_checks(allow_degraded=allow_degraded_checks) if checks is DEFAULT else checks
        # A conversation's next turn: only the texts added since an earlier call are scanned.
        self.input_verdicts = InputVerdicts(self.checks)
        self.safe_answer = safe_answer
        # Answers judged in the context of their prompt (fenghuo.checks.context): with the checks
        # on, the shipped judge; judge=None turns it off. A compliance risk is a "compliance"
        # finding with ``compliance_action``: "flag" (default: reported, the answer passes; the
        # judge's false-positive rate on real traffic is not proven yet) or "block".
        if compliance_action not in ("flag", "block"):
            raise ValueError(f"compliance_action must be flag or block, got {compliance_action!r} / 顺从风险处置只能是 flag 或 block")
        self.compliance_action = compliance_action
        self.judge = _default_judge() if judge is DEFAULT and self.checks is not None else (None if judge is DEFAULT else judge)
        # Events carry categories, not text; capture_text=True (or a character limit) adds the
        # checked (masked) input and output text to their attributes, cut to the limit.
        self.capture_chars = (CAPTURE_CHARS if capture_text is True else int(capture_text)) if capture_text else 0
        if labels is False or (isinstance(labels, LabelConfig) and not labels.enabled):
            # CN-LB-18: no explicit label only under a recorded waiver of this service, checked
            # here for the SDK (the gateway's CLI checks it once before it builds its workers).
            label_waiver = label_waiver or (labels.waiver if isinstance(labels, LabelConfig) else None)
            if kind != "gateway":
                from fenghuo.guard.label_waivers import check_for_guard

                check_for_guard(service, label_waiver, control=control, token=token, db=db)
            labels = (LabelConfig(enabled=False, producer=self.info.provider or "fenghuo", waiver=label_waiver) if labels is False
                      else dataclasses.replace(labels, waiver=label_waiver))
        self.labeller = Labeller(labels or LabelConfig(producer=self.info.provider or "fenghuo"), label_key)
        if sink is DEFAULT:
            sink = HttpSink(f"{control.rstrip('/')}/api/v1/events", token) if control else None
            if sink is None:
                log.warning("guard %s: no control plane, so call events are not reported to any monitor "
                            "(give control=URL, or a sink) / 未连接控制面，调用事件不会上报", self.instance)
        # Events the sink cannot take wait on disk: in spool_dir if given, else (when there is a
        # sink to resend to) under the data dir, where leftovers of this service's earlier runs
        # are adopted and resent (fenghuo.guard.spool). spool_dir=False: no spool at all.
        adopt = False
        if spool_dir is None and sink is not None and not getattr(sink, "discards", False):
            spool_dir, adopt = default_spool_dir(service, self.instance), True
        try:
            self.telemetry = Telemetry(sink, Path(spool_dir) if spool_dir else None, adopt=adopt)  # type: ignore[arg-type]
        except OSError as exc:
            raise ValueError(f"遥测落盘目录 {spool_dir} 无法使用 / telemetry spool {spool_dir} is not usable: {exc}") from exc
        self._running: Decision | None = None  # the decision of a running call, while state and version stay
        self._bucket: TokenBucket | None = None
        self._bucket_version = -1
        self.metrics: Any = None  # the gateway's counters (guard.metrics.GatewayMetrics), fed from each event
        # Measures on single end users (warn, restrict, suspend; guard.user_measures): pushed with
        # the switch stream when following a control plane, polled from the database embedded.
        self.users = UserTable()
        self.user_follower: UserFollower | None = None
        self.model_follower: ModelFollower | None = None
        self.follower: StreamFollower | EmbeddedFollower | None = None
        self._watch: DataVersion | None = None
        if follow and control:
            self.follower = StreamFollower(self.cache, control, token or "", self.instance, kind=kind, ack_seconds=ack_seconds,
                                           state_file=self.state_file, users=self.users, on_event=self._on_event).start()
        elif follow and db is not None:
            # The three pollers read the database only when something was committed to it since
            # their last read (guard.dbwatch): their reads held the interpreter lock 6 times a second.
            self._watch = DataVersion(db)
            self.follower = EmbeddedFollower(self.cache, db, self.instance, ack_seconds=ack_seconds, kind=kind,
                                             watch=self._watch).start()
            self.user_follower = UserFollower(self.users, service, db=db, poll_seconds=user_poll_seconds, watch=self._watch).start()
            self.model_follower = ModelFollower(self.models, db, poll_seconds=user_poll_seconds, watch=self._watch).start()

    def _on_event(self, ev: str, data: dict) -> None:
        if ev == "model":
            self.models.replace(data)

    # -- the switch ---------------------------------------------------------------------------
    def state(self) -> Effective:
        return self.cache.lookup()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return bool(self.follower and self.follower.connected.wait(timeout))

    def admit(self, user: str | None = None) -> Decision:
        """Decide where this call goes, or raise the refusal (:class:`errors.ServiceRefused`).
        ``user``: the end user's id, checked against the measures in force (CN-PO-09)."""
        d = self._admit()
        if user is not None and self.users.users and self.users.check(user) is not None:
            return Decision(d.eff, d.route, d.model, WARNING)
        return d

    def _admit(self) -> Decision:
        eff = self.cache.lookup()
        s = eff.state
        if s == "running":
            if self.models.refusing:  # versions unknown, fail-closed: nothing may reach an unapproved one
                raise unknown()
            d, active = self._running, self.models.active
            if d is None or d.eff is not eff or d.model != active:  # one Decision per state and version (≈ 1 µs to build)
                d = self._running = Decision(eff, "primary", active)
            return d
        if s == "degraded":
            if not self.has_backup:
                raise errors.no_backup()
            return Decision(eff, "backup", self.info.backup_model)
        if s == "paused":
            raise errors.paused(eff.reason, eff.incident, failsafe=eff.source == "failsafe", notices=self.notices)
        if s == "stopped":
            raise errors.stopped(eff.reason, eff.incident, self.notices)
        if s == "throttled":
            if self._bucket_version != eff.version or self._bucket is None:
                self._bucket, self._bucket_version = TokenBucket(eff.rate or 1), eff.version
            wait = self._bucket.take()
            if wait:
                raise errors.throttled(self._bucket.rate, wait)
            if self.models.refusing:
                raise unknown()
            return Decision(eff, "primary", self.models.active)
        if s == "canary":
            if random.random() * 100 < (eff.percent or 0):
                if self.models.refusing:
                    raise unknown()
                return Decision(eff, "primary", self.models.active)
            if self.has_backup:
                return Decision(eff, "backup", self.info.backup_model)
            raise errors.canary_full(eff.percent or 0)
        raise errors.paused(f"unknown state {s}", None, notices=self.notices)  # never: the cache validates states

    # -- checks and labels --------------------------------------------------------------------
    def check_input(self, text: str) -> Checked:
        return check_text(self.checks, text)

    def input_job(self, parts: list[str]) -> InputJob:
        """The input check of a call's texts (joined by newlines), reusing what an earlier call
        with the same leading texts found (:class:`~fenghuo.guard.input_verdicts.InputVerdicts`):
        ``job.scan_chars`` is what is left to scan, ``job.run()`` scans it."""
        return self.input_verdicts.job(parts)

    def check_output(self, text: str, prompt: str | None = None, prompt_normalised: Any = None) -> Checked:
        """Check the answer; with ``prompt`` (the request's messages), also judge it as a reply
        (``prompt_normalised``: ``checking.judge_prompt``'s, when the input check's can serve)."""
        checked = check_text(self.checks, text)
        return judge_answer(self.judge, prompt, text, checked, self.compliance_action, prompt_normalised) if prompt else checked

    def label(self, text: str, produce_id: str) -> tuple[str, dict]:
        return self.labeller.explicit(text), self.labeller.implicit(produce_id)

    # -- telemetry ----------------------------------------------------------------------------
    def report(self, *, status: str, eff: Effective | None = None, route: str | None = None, refusal: str | None = None,
               model: str | None = None, started: float | None = None, tokens_in: int | None = None,
               tokens_out: int | None = None, input: Checked | None = None, output: Checked | dict | None = None,  # noqa: A002
               label: bool | None = None, stream: bool | None = None, detail: str | None = None, event_id: str | None = None,
               attributes: dict | None = None) -> str:
        """Queue one call event (never blocks); returns its id."""
        eff = eff or self.cache.lookup()
        eid = event_id or uuid7()
        ev: dict[str, Any] = {
            "id": eid, "type": "call", "service": self.service, "time": datetime.now(UTC), "instance": self.instance,
            "state": eff.state, "state_version": eff.version, "failsafe": eff.failsafe, "route": route, "refusal": refusal,
            "status": status, "model": model, "tokens_in": tokens_in, "tokens_out": tokens_out, "label": label, "stream": stream,
            "detail": detail[:4000] if detail else None,
        }
        if started is not None:
            ev["latency_ms"] = (time.perf_counter() - started) * 1000
        if input is not None:
            ev["input"] = input.summary
        if output is not None:
            ev["output"] = output.summary if isinstance(output, Checked) else output
        if self.capture_chars:
            attributes = {**(attributes or {}), **self._captured(input, output)}
        if label is False and self.labeller.config.waiver:  # served without the explicit label: under which waiver (CN-LB-18)
            attributes = {**(attributes or {}), "label_waiver": self.labeller.config.waiver}
        if attributes:
            ev["attributes"] = attributes
        self.telemetry.emit(ev)
        if self.metrics is not None:
            self.metrics.observe(ev)
        return eid

    def _captured(self, input: Checked | None, output: Checked | dict | None) -> dict[str, Any]:  # noqa: A002
        out: dict[str, Any] = {}
        for key, checked in (("input", input), ("output", output)):
            if isinstance(checked, Checked):
                out[f"{key}_text"] = checked.text[:self.capture_chars]
                if len(checked.text) > self.capture_chars:
                    out[f"{key}_truncated"] = len(checked.text)
        return out

    # -- the SDK faces (see fenghuo.guard.sdk) --------------------------------------------------
    def call(self, input: str | None = None, **kw: Any):  # noqa: A002
        from fenghuo.guard.sdk import GuardedCall

        return GuardedCall(self, input, **kw)

    def protect(self, fn=None, **kw: Any):
        from fenghuo.guard.sdk import protect

        return protect(self, fn, **kw)

    def close(self, timeout: float = 5.0) -> None:
        if self.follower:
            self.follower.stop()
        if self.user_follower:
            self.user_follower.stop()
        if self.model_follower:
            self.model_follower.stop()
        if self._watch is not None:
            self._watch.close()
        self.telemetry.close(timeout)

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
