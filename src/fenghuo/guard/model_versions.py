"""The model version a guard sends its calls to (CN-TC-18: an important update takes traffic only
after a passing evaluation).

The control plane registers a service's versions and approves them (``fenghuo model propose |
verify``, ``recovery.model_updates``); guards follow the result like the switch: a ``model`` event
on the switch stream (``{"service", "active", "pending"}``, ``control.stream``), or a poll: of
the local database (embedded), of the control plane (a guard on the NATS KV bucket). :class:`ModelRoute` holds it:

- an ``active`` version: every call on the primary route asks the upstream for it (the request's
  ``model`` is rewritten; the gateway may also send each version to its own upstream,
  ``--model-upstream VERSION=URL``), and the SDK's ``call.model`` names it;
- ``pending`` versions take no traffic: while none is active, a request naming one is refused
  (409 ``model_not_approved``) instead of reaching it;
- nothing registered: calls pass on unchanged, as before versions existed.

A guard learns the versions before it serves its first call (:meth:`ModelRoute.load`, from the
``Guard`` constructor): from the control plane (``GET /api/v1/services/{id}/model``) or its
database. When neither answers, the switch's fail-safe decides, as it does for the state
(``guard.state``): the last versions this guard knew (kept beside its ``--state-file``,
``*.models.json``) are served — calls go to the approved one, never to a pending one; with none
kept, a fail-closed guard refuses every call on the primary route (503 ``model_unknown``,
retryable) until the versions arrive, and a fail-open one decides blind (calls pass on unchanged,
as its switch runs blind then).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from fenghuo.guard import errors
from fenghuo.guard.poller import Poller

log = logging.getLogger(__name__)


def not_approved(requested: str, pending: frozenset[str]) -> errors.GuardError:
    e = errors.GuardError(f"模型版本 {requested} 尚待评估通过，暂不提供服务",
                          f"model version {requested} is pending a passing evaluation and takes no traffic yet",
                          code="model_not_approved", status=409, pending=sorted(pending))
    e.should_retry = False
    return e


def unknown() -> errors.ServiceRefused:
    """Fail-closed while the versions are not known: no call may reach a version not approved."""
    e = errors.ServiceRefused("尚未获知获批的模型版本（未联系上控制面），按失效关闭暂不服务",
                              "the approved model version is not known yet (no contact with the control plane): "
                              "fail-closed, no call is served until it is", code="model_unknown", refusal="failsafe",
                              retry_after=1, failsafe=True)
    e.should_retry = True
    return e


def saved_path(state_file: Path | None) -> Path | None:
    """Where the last known versions are kept beside a guard's state file."""
    return state_file.with_name(f"{state_file.stem}.models.json") if state_file else None


class ModelRoute:
    """The approved and pending versions of one service (written by a follower, read per call).

    ``refusing`` is the one attribute the hot path reads: True while the versions are unknown
    and the fail-safe is closed (see the module doc)."""

    def __init__(self, service: str, failsafe_mode: str = "open", saved: Path | None = None) -> None:
        self.service = service
        self.active: str | None = None
        self.pending: frozenset[str] = frozenset()
        self.updates = 0
        self.known = False  # heard from the control plane or the database, or read from the saved file
        self.source: str | None = None  # control | database | state_file | none
        self.failsafe_mode = failsafe_mode
        self.refusing = failsafe_mode == "closed"
        self.saved = saved

    def replace(self, data: dict[str, Any], source: str = "control") -> bool:
        """A ``model`` event (or a poll) for this service; True if anything changed."""
        if data.get("service") != self.service:
            return False
        active = data.get("active") or None
        pending = frozenset(v for v in data.get("pending") or () if isinstance(v, str))
        first = not self.known or self.source == "state_file"
        self.known, self.source, self.refusing = True, source, False
        if (active, pending) == (self.active, self.pending) and not first:
            return False
        changed = (active, pending) != (self.active, self.pending)
        self.active, self.pending = active, pending
        if changed:
            self.updates += 1
            log.info("model versions of %s: active %s, pending %s", self.service, active, sorted(pending) or "none")
        self._save()
        return changed

    def load(self, *, control: str | None = None, token: str | None = None, db=None) -> str:
        """Learn the versions before the first call (from the ``Guard`` constructor); returns
        where they came from. Unreachable: the saved file, else unknown (``refusing`` if closed)."""
        try:
            if control:
                import httpx

                r = httpx.get(f"{control.rstrip('/')}/api/v1/services/{self.service}/model",
                              headers={"Authorization": f"Bearer {token}"}, timeout=3)
                r.raise_for_status()
                self.replace(_event(self.service, r.json()), "control")
            elif db is not None:
                from fenghuo.control.model_versions import routing

                with db.reader() as s:
                    self.replace(routing(s, [self.service])[self.service], "database")
            else:  # nowhere versions could be registered (a standalone guard): none are
                self.replace({"service": self.service}, "none")
            return self.source or "none"
        except Exception as exc:  # noqa: BLE001 - unreachable or refusing: the fail-safe decides
            log.warning("model versions of %s unknown at start (%s); fail-%s", self.service, exc, self.failsafe_mode)
        if self.saved is not None and self.saved.exists():
            try:
                data = json.loads(self.saved.read_text(encoding="utf-8"))
                self.replace({**data, "service": self.service}, "state_file")
                return "state_file"
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                log.warning("saved model versions %s unreadable: %s", self.saved, exc)
        return "unknown"

    def _save(self) -> None:
        if self.saved is None or self.source == "state_file":
            return
        try:
            tmp = self.saved.with_suffix(".tmp")
            tmp.write_text(json.dumps({"service": self.service, "active": self.active, "pending": sorted(self.pending)}),
                           encoding="utf-8")
            os.replace(tmp, self.saved)
        except OSError as exc:
            log.warning("cannot keep model versions in %s: %s", self.saved, exc)

    def check(self, requested: Any) -> None:
        """Refuse a request naming a pending version while no version is active (with one active,
        the request is rewritten to it instead: see ``upstream.Versions``)."""
        if self.active is None and self.pending and requested in self.pending:
            raise not_approved(str(requested), self.pending)


class ModelFollower(Poller):
    """Poll the service's versions every ``poll_seconds``: from the local database (embedded
    guards), or from ``GET /api/v1/services/{id}/model`` (guards on the NATS KV bucket, which
    carries the switch only)."""

    poll_first = False  # ``start`` has just polled

    def __init__(self, route: ModelRoute, db=None, *, control: str | None = None, token: str | None = None,
                 poll_seconds: float = 1.0, watch=None) -> None:
        super().__init__(f"models-{route.service}", control=control, token=token, poll_seconds=poll_seconds, watch=watch)
        self.route, self.db = route, db

    def start(self) -> ModelFollower:
        try:
            self.poll_if_changed()
        except Exception as exc:  # noqa: BLE001 - the control plane may not be up yet: the thread retries
            log.debug("model versions first poll: %s", exc)
        return super().start()

    def poll(self) -> None:
        if self._http is not None:
            r = self._http.get(f"/api/v1/services/{self.route.service}/model")
            r.raise_for_status()
            self.route.replace(_event(self.route.service, r.json()), "control")
            return
        from fenghuo.control.model_versions import routing

        with self.db.reader() as s:
            self.route.replace(routing(s, [self.route.service])[self.route.service], "database")


def _event(service: str, status: dict[str, Any]) -> dict[str, Any]:
    """``GET …/model``'s answer as a ``model`` event."""
    return {"service": service, "active": status.get("active"), "pending": [p["version"] for p in status.get("pending") or ()]}
