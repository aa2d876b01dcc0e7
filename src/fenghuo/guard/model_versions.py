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

Until the guard has heard from the control plane it knows no version and passes calls on
unchanged; the switch's own fail-safe decides whether calls go out at all then.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fenghuo.guard import errors

log = logging.getLogger(__name__)


def not_approved(requested: str, pending: frozenset[str]) -> errors.GuardError:
    e = errors.GuardError(f"模型版本 {requested} 尚待评估通过，暂不提供服务",
                          f"model version {requested} is pending a passing evaluation and takes no traffic yet",
                          code="model_not_approved", status=409, pending=sorted(pending))
    e.should_retry = False
    return e


class ModelRoute:
    """The approved and pending versions of one service (written by a follower, read per call)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.active: str | None = None
        self.pending: frozenset[str] = frozenset()
        self.updates = 0

    def replace(self, data: dict[str, Any]) -> bool:
        """A ``model`` event (or an embedded poll) for this service; True if anything changed."""
        if data.get("service") != self.service:
            return False
        active = data.get("active") or None
        pending = frozenset(v for v in data.get("pending") or () if isinstance(v, str))
        if (active, pending) == (self.active, self.pending):
            return False
        self.active, self.pending = active, pending
        self.updates += 1
        log.info("model versions of %s: active %s, pending %s", self.service, active, sorted(pending) or "none")
        return True

    def check(self, requested: Any) -> None:
        """Refuse a request naming a pending version while no version is active (with one active,
        the request is rewritten to it instead: see ``upstream.Versions``)."""
        if self.active is None and self.pending and requested in self.pending:
            raise not_approved(str(requested), self.pending)


class ModelFollower:
    """Poll the service's versions every ``poll_seconds``: from the local database (embedded
    guards), or from ``GET /api/v1/services/{id}/model`` (guards on the NATS KV bucket, which
    carries the switch only)."""

    def __init__(self, route: ModelRoute, db=None, *, control: str | None = None, token: str | None = None,
                 poll_seconds: float = 1.0) -> None:
        self.route, self.db, self.poll_seconds = route, db, poll_seconds
        self._http = None
        if control:
            import httpx

            self._http = httpx.Client(base_url=control.rstrip("/"), timeout=5.0, headers={"Authorization": f"Bearer {token}"})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fenghuo-models-{route.service}")

    def start(self) -> ModelFollower:
        try:
            self.poll()
        except Exception as exc:  # noqa: BLE001 - the control plane may not be up yet: the thread retries
            log.debug("model versions first poll: %s", exc)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._http is not None:
            self._http.close()

    def poll(self) -> None:
        if self._http is not None:
            r = self._http.get(f"/api/v1/services/{self.route.service}/model")
            r.raise_for_status()
            st = r.json()
            self.route.replace({"service": self.route.service, "active": st.get("active"),
                                "pending": [p["version"] for p in st.get("pending") or ()]})
            return
        from fenghuo.control.model_versions import routing

        with self.db.reader() as s:
            self.route.replace(routing(s, [self.route.service])[self.route.service])

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - database briefly away: keep the last versions
                log.debug("model versions poll: %s", exc)
