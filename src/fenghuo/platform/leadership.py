"""Who may do the work only one control plane should do (tick the alert rules, send
notifications, run plan steps): the seam between those workers and a scaled-out deployment.

A worker is given a :class:`Leadership` when it is built and asks it two things: ``active()``
before each round (a follower skips the round) and ``fence(session)`` inside each write's own
transaction (a leader that stalled past its lease is refused there, so it cannot commit after a
successor took over). One process alone is :data:`SOLE`; ``fenghuo.scale.replica`` supplies the
lease-backed one."""

from __future__ import annotations

from typing import Any, Protocol


class Leadership(Protocol):
    def active(self) -> bool:
        """True while this process should do the leader's work."""

    def fence(self, session: Any) -> None:
        """Raise inside a leader-only write's transaction when this process no longer leads."""


class Sole:
    """The only control plane there is: always leads, nothing to fence."""

    def active(self) -> bool:
        return True

    def fence(self, session: Any) -> None:
        return None


SOLE = Sole()
