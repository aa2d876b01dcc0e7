"""Fixtures every test may use: an isolated FENGHUO_HOME, and databases on SQLite and on the
PostgreSQL named by FENGHUO_TEST_PG (those tests skip without it; `.ci/run` sets it and fails
if they did not run)."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from fenghuo.platform.clock import ManualClock
from fenghuo.platform.db import Database
from tests.pg_schemas import PG_URL, PgSchema, close_pool

__all__ = ["PG_URL", "PgSchema", "database_maker", "isolate_home"]  # what test modules import from here


@pytest.fixture(scope="session")
def derived_cache_dir(tmp_path_factory):
    """One directory per test process for the checks' derived tables (``checks.derived_cache``:
    normaliser table, pinyin readings, the lexicons' fused tables and variants, compiled
    lexicons), which otherwise sit under FENGHUO_HOME and so were rebuilt by every test that
    loads a pipeline (~1.5 s of a shipped pipeline's ~8 s load under make test's load). A table
    is keyed by everything it is derived from, so a test can only read the table it would have
    built; the build path still runs on each process's first load, and test_derived_cache.py
    and test_lexicon_cache.py point the cache at their own directories."""
    return tmp_path_factory.mktemp("derived-cache")


@pytest.fixture(autouse=True)
def fenghuo_home(tmp_path, monkeypatch, derived_cache_dir):
    """Every test gets its own data directory and ledger key, so nothing leaks between tests."""
    isolate_home(monkeypatch, tmp_path / "home")
    if "FENGHUO_CACHE_DIR" not in _OUTER_ENV:  # a cache setting of the caller's own (e.g. off) stands
        monkeypatch.setenv("FENGHUO_CACHE_DIR", str(derived_cache_dir))
    return tmp_path / "home"


_OUTER_ENV = dict(os.environ)


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory, derived_cache_dir):
    """``fenghuo_home``'s settings for what runs outside a test: module- and session-scoped
    fixtures are built before any function-scoped fixture, so without this a module fixture that
    loads the shipped pipeline read and wrote the caller's own data directory
    (~/.local/share/fenghuo/cache) and, with a cache directory other than the process's, compiled
    the shipped rules again (~3-5 s of CPU each: RulesCheck's in-process memo is keyed by it)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_home(mp, tmp_path_factory.mktemp("session-home"))
        if "FENGHUO_CACHE_DIR" not in _OUTER_ENV:
            mp.setenv("FENGHUO_CACHE_DIR", str(derived_cache_dir))
        yield


def isolate_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Point FENGHUO_HOME and the ledger key at ``home`` (on ``mp``'s undo list)."""
    mp.setenv("FENGHUO_HOME", str(home))
    mp.setenv("FENGHUO_LEDGER_KEY", str(home / "ledger-key.pem"))


@contextmanager
def database_maker(kind: str, sqlite_path: Callable[[int], Path]):
    """``make(clock=None, upgrade=True)`` -> a Database on one fresh backend of ``kind`` ("sqlite"
    or "pg": a PostgreSQL schema of its own, dropped afterwards; skips without FENGHUO_TEST_PG).
    ``sqlite_path(n)``: the file of the n-th database made. Every database made is disposed.
    On PostgreSQL the first database made decides the schema: ``upgrade=True`` takes an empty
    migrated one from the process's pool (tests/pg_schemas.py), ``upgrade=False`` an empty one
    for the test to migrate itself; ``make.schema`` is its name from then on."""
    made: list[Database] = []
    schema = None
    if kind == "pg" and not PG_URL:
        pytest.skip("FENGHUO_TEST_PG not set: PostgreSQL tests skipped")

    def make(clock=None, upgrade=True) -> Database:
        nonlocal schema
        if kind == "pg":
            if schema is None:
                schema = PgSchema(migrated=upgrade)
                make.schema = schema.name
            db = schema.database(clock)
        else:
            kw = {"clock": clock} if clock else {}
            db = Database(str(sqlite_path(len(made))), **kw)
        if upgrade:
            db.upgrade()  # on a pooled schema only a look at its revision
        made.append(db)
        return db

    make.kind = kind
    make.schema = None
    try:
        yield make
    finally:
        for db in made:
            db.dispose()
        if schema:
            schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_factory(request, tmp_path):
    """Makes Database objects on one fresh database, SQLite or PostgreSQL (param id in the test name)."""
    with database_maker(request.param, lambda _n: tmp_path / "fenghuo.db") as make:
        yield make


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def module_db_factory(request, tmp_path_factory):
    """``db_factory`` for a module's tests that only read what was written before them: the
    databases (and FENGHUO_HOME) last for the module, so their data is made once per backend
    instead of once per test. Tests that write anything keep ``db_factory``."""
    base = tmp_path_factory.mktemp("module-db")
    with pytest.MonkeyPatch.context() as mp:
        isolate_home(mp, base / "home")
        with database_maker(request.param, lambda n: base / f"fenghuo{n}.db") as make:
            yield make


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def db(db_factory, clock):
    return db_factory(clock)


# --- a record of the PostgreSQL tests, for .ci/run ---------------------------------------------
# CI must fail when the PostgreSQL tests were skipped. Tests are tagged with the `pg` marker
# (the db fixtures do this); this hook writes how each of them ended to FENGHUO_PG_REPORT.
_pg_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report):
    if "pg" in report.keywords and (report.when == "call" or report.outcome == "skipped"):
        _pg_outcomes[report.nodeid] = report.outcome


def pytest_sessionfinish(session, exitstatus):
    close_pool()  # this process's pooled PostgreSQL schemas
    path = os.environ.get("FENGHUO_PG_REPORT")
    # Under pytest-xdist each worker finishes a session of its own; the controller, which
    # receives every worker's reports, writes the whole record once they are all done.
    if path and not hasattr(session.config, "workerinput"):
        import json

        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_pg_outcomes, fh, indent=1)


# --- file order, for make test's two workers ----------------------------------------------------
# pytest-xdist's --dist loadfile hands out whole files in the order it gets them; by default it
# sorts them by their number of tests, which put the suite's slowest files (single long tests:
# the demo, the chaos and restart runs) last, where one worker ran them while the other sat idle.
# Longest first (the classic schedule for two machines) leaves only short files for the end.
# The list: each file's summed test time (junit), longest first, from one-process runs of this
# session (17: tests/checks after its rules work, the rest at 85a86d3; load ~5 on this 2-core
# machine): every file of 12 s or more. A file not in it keeps its place after them (by number
# of tests, as before). Makefile passes --no-loadscope-reorder so xdist keeps this order.
LONGEST_FILES = (
    "tests/test_demo.py",  # 79 s
    "tests/guard/test_gateway.py",  # 54 s
    "tests/foundation/test_properties.py",  # 53 s
    "tests/foundation/test_switch.py",  # 49 s
    "tests/foundation/test_api.py",  # 49 s
    "tests/checks/test_rules_speed.py",  # 42 s
    "tests/foundation/test_ledger.py",  # 42 s
    "tests/console/test_fleet.py",  # 41 s
    "tests/guard/test_failsafe.py",  # 40 s
    "tests/checks/test_big_input.py",  # 38 s
    "tests/checks/test_verdicts_unchanged.py",  # s25: 120 s beside test_gateway.py's 404 s (load ~13); one test, so it ran last
    "tests/monitor/test_ingest_native.py",  # 37 s
    "tests/guard/test_batch_acks.py",  # 36 s
    "tests/foundation/test_ack_route.py",  # 34 s
    "tests/security/test_fuzz_findings.py",  # 33 s
    "tests/guard/test_gateway_workers.py",  # 32 s
    "tests/checks/test_lexicon_shipped.py",  # 28 s
    "tests/guard/test_stream_scripted.py",  # 27 s
    "tests/foundation/test_fleet_coverage.py",  # 27 s
    "tests/foundation/test_fleet_lists.py",  # 23 s
    "tests/scale/test_chaos_pg.py",  # 21 s
    "tests/checks/test_rules.py",  # 20 s
    "tests/monitor/test_columns.py",  # 19 s
    "tests/scale/test_replica_commands.py",  # 18 s
    "tests/guard/test_telemetry_review.py",  # 18 s
    "tests/security/test_instance_ack.py",  # 18 s
    "tests/response/test_executor.py",  # 17 s
    "tests/monitor/test_dedup_restart.py",  # 17 s
    "tests/monitor/test_fastpath.py",  # 17 s
    "tests/foundation/test_fleet_listing.py",  # 17 s
    "tests/foundation/test_user_measures_paged.py",  # 16 s
    "tests/scale/test_switch_kv.py",  # 16 s
    "tests/corpus/test_scan.py",  # 16 s
    "tests/alerts/test_restart.py",  # 15 s
    "tests/scale/test_chaos_control.py",  # 15 s
    "tests/checks/test_classifier.py",  # 14 s
    "tests/scale/test_replicas.py",  # 14 s
    "tests/recovery/test_recovery.py",  # 14 s
    "tests/security/test_outages.py",  # 14 s
    "tests/checks/test_rules_abuse.py",  # 13 s
    "tests/evaluation/test_resume.py",  # s25: 36 s at load ~13 (~1/11 of test_gateway.py); one test, so it ran near the end
    "tests/foundation/test_fleet_analyze.py",  # 12 s
)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture, which stays within each file
def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FILES)}
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    order = sorted(files, key=lambda f: (0, rank[f]) if f in rank else (1, -len(files[f])))
    items[:] = [item for f in order for item in files[f]]
