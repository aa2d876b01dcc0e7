"""Schema migrations with Alembic, run from code so `fenghuo` needs no alembic.ini.

``fenghuo db upgrade`` and every command that opens the database call :func:`upgrade`; it is
idempotent and cheap when the schema is current.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def current_revision(db) -> str | None:  # noqa: ANN001
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db) -> None:  # noqa: ANN001
    if current_revision(db) == head_revision():
        return
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
