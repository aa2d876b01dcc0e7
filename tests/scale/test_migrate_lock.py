"""Two replicas starting together on a fresh PostgreSQL schema both migrate at start: the
advisory lock in ``platform.migrate`` makes one wait for the other, so both succeed and the
schema is whole (without it the second fails on the first's tables)."""

from __future__ import annotations

import threading

from fenghuo.platform.migrate import current_revision, head_revision
from tests.scale.helpers import seed


def test_two_concurrent_upgrades_on_a_fresh_schema(pg_empty):
    pg = pg_empty
    for _ in range(3):  # a few rounds: each starts both upgrades at the same moment
        dbs = [pg.make(), pg.make()]
        assert current_revision(dbs[0]) in (None, head_revision())
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def up(db, start=start, failures=failures) -> None:
            start.wait()
            try:
                db.upgrade()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=up, args=(db,)) for db in dbs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures
        assert current_revision(dbs[0]) == current_revision(dbs[1]) == head_revision()
        if _ == 0:
            seed(dbs[1])  # the schema works
        with dbs[0].engine.begin() as conn:  # a fresh schema for the next round
            conn.exec_driver_sql(f'DROP SCHEMA "{pg.name}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{pg.name}"')
        for db in dbs:
            db.dispose()
