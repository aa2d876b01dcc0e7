"""Run the control plane inside this process on a free port, for the demo, tests and
benchmarks (a real uvicorn server on a real socket, not a test client)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from fenghuo.api.app import create_app
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    def __init__(self, db: Database, settings: Settings | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings or Settings(checkpoint_seconds=0), db=db)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error", lifespan="on",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"fenghuo-api-{self.port}")

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("control plane did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        hub = getattr(self.app.state, "hub", None)
        if hub is not None:
            hub.close_followers()
        self.server.should_exit = True
        self.thread.join(timeout=10)
