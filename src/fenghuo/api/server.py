"""Run the control plane inside this process on a free port, for the demo, tests and
benchmarks (a real uvicorn server on a real socket, not a test client)."""

from __future__ import annotations

from typing import Any

from fenghuo.api.app import create_app
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.serving import BackgroundServer, free_port

__all__ = ["ServerThread", "free_port"]


class ServerThread(BackgroundServer):
    def __init__(self, db: Database, settings: Settings | None = None, port: int | None = None, **wiring: Any) -> None:
        """``wiring``: ``monitor_settings`` / ``alerts_config`` for :func:`create_app`."""
        super().__init__(create_app(settings or Settings(checkpoint_seconds=0), db=db, **wiring), port=port, lifespan="on")

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        # SSE followers would otherwise hold the graceful shutdown open until its timeout.
        runtime = getattr(self.app.state, "runtime", None)
        if runtime is not None:
            runtime.hub.close_followers()
        self.stop()
