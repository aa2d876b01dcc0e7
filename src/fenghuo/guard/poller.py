"""A guard's background poll of something the switch stream does not carry to it: per-user
measures and model versions, read from the local database (embedded guards) or from the control
plane's HTTP API (guards on the NATS bucket). One thread per poller; a failed poll keeps what the
guard last knew and is tried again after ``poll_seconds``."""

from __future__ import annotations

import logging
import threading

import httpx

log = logging.getLogger(__name__)


class Poller:
    """Subclasses implement :meth:`poll`; ``self._http`` is set when ``control`` is given."""

    poll_first = True  # poll as soon as the thread starts, or wait ``poll_seconds`` first

    def __init__(self, label: str, *, control: str | None = None, token: str | None = None, poll_seconds: float = 1.0,
                 watch=None) -> None:
        self.label, self.poll_seconds = label, poll_seconds
        # An embedded database's data version (guard.dbwatch): a poll that would find nothing new
        # is skipped. None: every poll reads.
        self._gate = watch.gate() if watch is not None and control is None else None
        self._http = httpx.Client(base_url=control.rstrip("/"), timeout=5.0,
                                  headers={"Authorization": f"Bearer {token}"}) if control else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fenghuo-{label}")
        self.polls = self.failures = self.skipped = 0

    def poll(self) -> None:
        raise NotImplementedError

    def poll_if_changed(self) -> None:
        """:meth:`poll`, unless the database says nothing was committed since the last one."""
        gate = self._gate
        if gate is None:
            return self.poll()
        due, version = gate.due()
        if not due:
            self.skipped += 1
            return None
        self.poll()
        gate.done(version)
        return None

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._http is not None:
            self._http.close()

    def _run(self) -> None:
        if not self.poll_first and self._stop.wait(self.poll_seconds):
            return
        while not self._stop.is_set():
            try:
                self.poll_if_changed()
            except Exception as exc:  # noqa: BLE001 - control plane or database briefly away: keep what is known
                self.failures += 1
                log.debug("%s poll: %s", self.label, exc)
            self._stop.wait(self.poll_seconds)
