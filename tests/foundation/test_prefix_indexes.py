"""No index repeats the leading column of another (issue 19, migration 0024; session 26): a
single-column index that a composite or unique index starts with serves no lookup the composite cannot
serve, and every insert pays for it. Checked on the migrated schema, SQLite and PostgreSQL, and
0024 goes down and up again to the same schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from fenghuo.platform.migrate import config

VERSIONS = Path(__file__).resolve().parents[2] / "src" / "fenghuo" / "migrations" / "versions"


def _dropped() -> tuple:
    spec = importlib.util.spec_from_file_location("m0024", VERSIONS / "0024_prefix_indexes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DROPPED


def _to(db, revision: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _indexes(db) -> dict[str, dict[str, tuple]]:
    insp = sa.inspect(db.engine)
    return {t: {ix["name"]: tuple(ix["column_names"]) for ix in insp.get_indexes(t)} for t in insp.get_table_names()}


def _covered(indexes: dict[str, dict[str, tuple]]) -> list[str]:
    """Indexes whose columns are the leading columns of another index on the same table."""
    return [f"{t}.{name}" for t, ixs in indexes.items() for name, cols in ixs.items()
            if any(other != name and len(oc) > len(cols) and oc[:len(cols)] == cols for other, oc in ixs.items())]


def test_no_index_is_the_prefix_of_another(db_factory):
    db = db_factory()
    covered = _covered(_indexes(db))
    assert covered == [], ", ".join(covered)


def test_0024_drops_them_and_goes_back(db_factory):
    db = db_factory(upgrade=False)
    dropped = _dropped()
    _to(db, "0023_services_index")
    before = _indexes(db)
    assert {(t, n) for n, t, _ in dropped} <= {(t, n) for t, ixs in before.items() for n in ixs}
    assert _covered(before) and set(_covered(before)) <= {f"{t}.{n}" for n, t, _ in dropped}
    db.upgrade()
    after = _indexes(db)
    assert not {(t, n) for n, t, _ in dropped} & {(t, n) for t, ixs in after.items() for n in ixs}
    assert _covered(after) == []
    _to(db, "0023_services_index", down=True)
    assert _indexes(db) == before
    _to(db, "head")
    assert _indexes(db) == after
