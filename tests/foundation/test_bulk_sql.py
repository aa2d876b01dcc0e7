"""Rows written many at once (issue 19, ``platform.bulk_sql``; session 25): on PostgreSQL one
statement of array parameters stores what ``insert(table)`` executed with the rows stores, byte
for byte in JSON columns; ``one_of`` selects what ``IN (...)`` selects; ``row_scope.follow``'s one
statement catches up every carrier; migration 0023 drops the duplicate services index and the
schema then matches the model (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text, insert, select, update

from fenghuo.control import row_scope
from fenghuo.platform import bulk_sql
from fenghuo.platform.migrate import config
from fenghuo.registry.models import Service
from tests.foundation.test_listing_paths import MODELS, _fleet_db

SHARED = {"shared": ["一", {"k": None}]}


def _table(name: str) -> Table:
    return Table(name, MetaData(), Column("id", String(16), primary_key=True), Column("n", Integer, nullable=True),
                 Column("big", BigInteger, nullable=True), Column("flag", Boolean, nullable=True),
                 Column("note", Text, nullable=True), Column("doc", JSON, nullable=True),
                 Column("doc_or_null", JSON(none_as_null=True), nullable=True))


ROWS = [
    {"id": "a", "n": 1, "big": 2**40, "flag": True, "note": 'q"uote\\ ,{}\n中文', "doc": {"b": 1, "a": [1, "x"]}, "doc_or_null": None},
    {"id": "b", "n": None, "big": None, "flag": None, "note": None, "doc": None, "doc_or_null": {"z": "é"}},
    {"id": "c", "n": -5, "big": 0, "flag": False, "note": "", "doc": SHARED, "doc_or_null": SHARED},
    {"id": "d", "n": 7, "big": -(2**62), "flag": True, "note": "NULL", "doc": SHARED, "doc_or_null": [1, 2.5, True]},
]


def _stored(db, table: Table) -> list[tuple]:
    with db.engine.connect() as c:
        if db.is_sqlite:
            return c.exec_driver_sql(f"SELECT id, n, big, flag, note, doc, doc_or_null FROM {table.name} ORDER BY id").all()
        # the JSON columns as their stored text: a json column keeps the bytes it was given
        return c.exec_driver_sql(f"SELECT id, n, big, flag, note, doc::text, doc_or_null::text FROM {table.name} ORDER BY id").all()


def test_insert_rows_stores_what_the_plain_insert_stores(db_factory):
    db = db_factory()
    plain, bulk = _table("t_plain"), _table("t_bulk")
    for t in (plain, bulk):
        t.create(db.engine)
    with db.transaction() as s:
        s.execute(insert(plain), ROWS)
        bulk_sql.insert_rows(s, bulk, ROWS)
    assert _stored(db, bulk) == _stored(db, plain)
    assert len(_stored(db, bulk)) == len(ROWS)


def test_insert_rows_falls_back_and_keeps_the_column_rules(db_factory):
    db = db_factory()
    t = _table("t_rules")
    t.create(db.engine)
    made = Table("t_default", MetaData(), Column("id", String(16), primary_key=True),
                 Column("n", Integer, default=lambda ctx: len(ctx.get_current_parameters()["id"])))
    made.create(db.engine)
    with db.transaction() as s:
        bulk_sql.insert_rows(s, t, [])  # nothing to write
        bulk_sql.insert_rows(s, t, [{"id": "x", "n": 1}, {"id": "y", "n": None}])  # the columns left out are NULL
        # a client-side default of a column the rows leave out: the plain insert runs it
        bulk_sql.insert_rows(s, made, [{"id": "abc"}, {"id": "de"}])
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT id, n, note, doc FROM t_rules ORDER BY id").all() == [("x", 1, None, None), ("y", None, None, None)]
        assert c.exec_driver_sql("SELECT id, n FROM t_default ORDER BY id").all() == [("abc", 3), ("de", 2)]
    with pytest.raises(sa.exc.StatementError), db.transaction() as s:  # rows that name different columns, as before
        bulk_sql.insert_rows(s, t, [{"id": "v", "n": 1}, {"id": "w", "note": "n"}])
    if not db.is_sqlite:  # a value longer than its VARCHAR fails as the plain insert fails, never cut short
        with pytest.raises(sa.exc.DataError), db.transaction() as s:
            bulk_sql.insert_rows(s, t, [{"id": "z" * 17, "n": 1}])
    with pytest.raises(sa.exc.IntegrityError), db.transaction() as s:  # the primary key holds
        bulk_sql.insert_rows(s, t, [{"id": "x", "n": 2}])


def test_one_of_selects_what_in_selects(db_factory):
    db = db_factory()
    t = _table("t_one_of")
    t.create(db.engine)
    with db.transaction() as s:
        s.execute(insert(t), [{"id": f"id{i}", "n": i} for i in range(50)])
    want = [f"id{i}" for i in range(0, 60, 3)] + ["id1" + "x" * 30]  # absent ids, one longer than the column
    with db.reader() as s:
        got = set(s.execute(select(t.c.id).where(bulk_sql.one_of(s, t.c.id, want))).scalars())
        assert got == set(s.execute(select(t.c.id).where(t.c.id.in_(want))).scalars()) == {f"id{i}" for i in range(0, 50, 3)}
        assert set(s.execute(select(t.c.id).where(bulk_sql.one_of(s, t.c.n, [3, 4, 99]))).scalars()) == {"id3", "id4"}
        assert not s.execute(select(t.c.id).where(bulk_sql.one_of(s, t.c.id, []))).all()


def test_follow_catches_up_every_carrier(db_factory):
    """Every carrier's rows set wrong (or NULL) are set back to their service's jurisdiction by one
    call, and rows of services not named are left alone."""
    db, reg = _fleet_db(db_factory)
    ids = sorted(s.id for s in reg.services)
    named, other = ids[: len(ids) // 2], ids[len(ids) // 2:]
    with db.transaction() as s:
        for model in MODELS.values():
            s.execute(update(model.__table__).where(model.service_id.in_(ids[0::2])).values(jurisdiction_id=None))
            s.execute(update(model.__table__).where(model.service_id.in_(ids[1::2])).values(jurisdiction_id="p00"))
    with db.transaction() as s:
        row_scope.follow(s, named + named[:3])
    with db.reader() as s:
        home = dict(s.execute(select(Service.id, Service.jurisdiction_id)).all())
        for name, model in MODELS.items():
            rows = s.execute(select(model.service_id, model.jurisdiction_id)).all()
            assert {r.service_id for r in rows} >= set(ids[:4]), name
            for sid, jid in rows:
                if sid in named:
                    assert jid == home[sid], (name, sid)
                elif sid in other:
                    assert jid == (None if ids.index(sid) % 2 == 0 else "p00"), (name, sid)
    with db.transaction() as s:
        row_scope.follow(s, [])  # nothing to do


def _to(db, revision: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _service_indexes(db) -> set[str]:
    return {ix["name"] for ix in sa.inspect(db.engine).get_indexes("services")}


def test_migration_0023_drops_the_duplicate_index(db_factory):
    db = db_factory(upgrade=False)
    _to(db, "0022_spare")
    assert {"ix_services_jurisdiction_id", "ix_services_jurisdiction_id_id"} <= _service_indexes(db)
    db.upgrade()
    after = _service_indexes(db)
    assert "ix_services_jurisdiction_id" not in after and "ix_services_jurisdiction_id_id" in after
    assert after == {ix.name for ix in Service.__table__.indexes}  # the schema is the model's
    _to(db, "0022_spare", down=True)
    assert "ix_services_jurisdiction_id" in _service_indexes(db)
    _to(db, "head")
    assert _service_indexes(db) == after
