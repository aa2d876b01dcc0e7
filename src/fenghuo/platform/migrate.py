"""Schema migrations with Alembic, run from code so `fenghuo` needs no alembic.ini.

``fenghuo db upgrade`` and every command that opens the database call :func:`upgrade`; it is
idempotent and cheap when the schema is current.

On PostgreSQL several control-plane replicas may start together and each migrate: the upgrade
runs under a transaction-scoped advisory lock (one per schema) and looks at the revision again
once it holds the lock, so the second replica waits for the first and then finds nothing to do
instead of racing it on the same DDL. SQLite needs none: its write lock already serialises.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

# The migrations sit at the top of the package (fenghuo/migrations), beside fenghuo/models.py
# which imports every table: platform only names the directory, it imports no domain.
MIGRATIONS = Path(__file__).parent.parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
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
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
