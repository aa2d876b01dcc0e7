"""Planner statistics after a bulk registration (issue 19): on PostgreSQL a filtered services page
took 2.8 s right after registering a large fleet, before autovacuum had analysed the tables
(47 ms after ANALYZE). A registration that inserts many services analyses the tables it filled,
after its commit; a small one does not. On SQLite the registration runs ``PRAGMA optimize``."""

from __future__ import annotations

import time

import sqlalchemy as sa

from fenghuo.control import listing
from fenghuo.control import services as registry
from fenghuo.demo.fleet import fleet
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import RegistrationFile

ADMIN = local_actor()
N = 3000


def _stats(db, table: str) -> tuple[float, object]:
    """(estimated rows, last manual ANALYZE) of ``table`` in the test's schema, read on a fresh
    connection (the statistics views keep a snapshot per transaction)."""
    with db.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT c.reltuples, s.last_analyze FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = to_regclass(:t)"), {"t": table}).one()


def _wait_analyzed(db, table: str, after=None) -> tuple[float, object]:
    deadline = time.monotonic() + 10
    while True:  # the cumulative statistics reach the view within about a second
        rows, last = _stats(db, table)
        if last is not None and (after is None or last > after) or time.monotonic() > deadline:
            return rows, last
        time.sleep(0.2)


def test_bulk_registration_leaves_the_planner_statistics(db_factory):
    db = db_factory()
    reg = fleet(N, provinces=2)
    few = RegistrationFile(jurisdictions=reg.jurisdictions, providers=reg.providers, services=reg.services[:20])
    registry.register(db, ADMIN, few)  # 20 services: no ANALYZE
    if not db.is_sqlite:
        rows, last = _stats(db, "services")
        assert last is None and rows <= 20  # never analysed (-1 on PostgreSQL ≥ 14, 0 before)
    out = registry.register(db, ADMIN, reg.model_copy(update={"jurisdictions": [], "providers": [], "services": reg.services[20:]}))
    assert sum(1 for r in out if r["result"] == "registered") == N - 20
    page = listing.service_page(db, ADMIN, listing.ServiceFilter(sector="finance"), limit=100)
    assert page.items and all(s["attributes"]["sector"] == "finance" for s in page.items)
    if db.is_sqlite:
        with db.engine.connect() as conn:  # the database is intact after PRAGMA optimize
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        return
    for table in registry.FILLED:
        rows, last = _wait_analyzed(db, table)
        assert last is not None, table
        assert rows >= N * 0.9, (table, rows)  # the planner knows the table's size
    _, first = _stats(db, "services")
    extra = reg.services[0].model_copy(update={"id": "svc-extra"})
    registry.register(db, ADMIN, RegistrationFile(services=[extra]))  # one more: not analysed again
    time.sleep(1.5)
    assert _stats(db, "services")[1] == first
