"""Schema migrations with Alembic, run from code so `fenghuo` needs no alembic.ini.

``fenghuo db upgrade`` and every command that opens the database call :func:`upgrade`; it is
idempotent and cheap when the schema is current.

On PostgreSQL several control-plane replicas may start together and each migrate: the upgrade
runs under a transaction-scoped advisory lock (one per schema) and looks at the revision again
once it holds the lock, so the second replica waits for the first and then finds nothing to do
instead of racing it on the same DDL. SQLite needs none: its write lock already serialises.

An empty database migrated a second time in one process replays the statements the first one
executed (see :mod:`fenghuo.platform.migrate_replay`): the same SQL, without Alembic's Python.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from fenghuo.platform import migrate_replay

# The migrations sit at the top of the package (fenghuo/migrations), beside fenghuo/models.py
# which imports every table: platform only names the directory, it imports no domain.
MIGRATIONS = Path(__file__).parent.parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return _head_of(*_versions_signature())


def _versions_signature() -> tuple:
    """Name, size and modification time of every revision file: reading the scripts costs ~30 ms
    a call, and every open of a database asks for the head; a changed file changes the key."""
    files = sorted((MIGRATIONS / "versions").glob("*.py"))
    return tuple((f.name, st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()])


@functools.lru_cache(maxsize=4)
def _head_of(*_signature) -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def current_revision(db) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Released when the migration's transaction ends (commit or rollback), so a replica that dies
# mid-migration cannot leave it held.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('fenghuo-migrate:' || current_schema()))")


def upgrade(db) -> None:
    head = head_revision()
    if current_revision(db) == head:
        return
    cfg = config()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(_LOCK)
            if MigrationContext.configure(conn).get_current_revision() == head:
                return  # another replica migrated while we waited for the lock
        with migrate_replay.replay_or_record(conn, head) as replayed:
            if not replayed:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
