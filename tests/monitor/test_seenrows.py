"""The dedup row's two forms (``monitor.seenrows``): UUID ids packed as 16 bytes each on SQLite,
JSON otherwise. The kernel's pack/unpack and the Python reference agree, anything but a
canonical lowercase UUID keeps the batch in JSON, and a database holding rows of both forms
(JSON rows written before the packed form, packed rows after) reloads every id."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import text

from fenghuo.monitor import seenrows
from fenghuo.monitor.dedup import Dedup
from fenghuo.monitor.native import KERNEL
from fenghuo.platform.db import Database

native = pytest.mark.skipif(KERNEL is None, reason="the ingest kernel is not built")
IDS = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15_F39CC0605CEDC834) % (1 << 128))) for i in range(1, 300)]
GOOD = IDS[:5]
NOT_UUIDS = [
    [*GOOD, GOOD[0].upper()],  # uppercase: not the canonical form (its str differs)
    [*GOOD, GOOD[0][:35]],  # one character short
    [*GOOD, GOOD[0] + "0"],  # one too many
    [*GOOD, GOOD[0][:35] + "g"],  # not hex
    [*GOOD, GOOD[0][:35] + " "],  # whitespace (bytes.fromhex skips it)
    [*GOOD, GOOD[0].replace("-", "0", 1)],  # a hyphen missing
    [*GOOD, GOOD[0][:9] + "-" + GOOD[0][10:]],  # a hyphen in the wrong place
    [*GOOD, "é" * 36],  # not ASCII
    [*GOOD, GOOD[0].replace("-", "")],  # 32 digits without hyphens
    [*GOOD, "evt-1"],
    [*GOOD, 7],  # not a str
    [GOOD[0][:35], "0" + GOOD[1]],  # 35 + 37 characters: the joined text would look canonical
]


def test_pack_round_trip_and_reference() -> None:
    packed = seenrows.pack(IDS)
    assert packed == b"".join(uuid.UUID(i).bytes for i in IDS)
    assert seenrows.pack_py(IDS) == packed
    assert seenrows.unpack(packed) == IDS == seenrows.unpack_py(packed)
    assert seenrows.decode(packed) == IDS and seenrows.decode(seenrows.to_json(IDS)) == IDS
    assert seenrows.pack([]) == b"" and seenrows.unpack(b"") == []


@pytest.mark.parametrize("ids", NOT_UUIDS, ids=range(len(NOT_UUIDS)))
def test_not_canonical_stays_json(ids) -> None:
    assert seenrows.pack_py(ids) is None
    if KERNEL is not None:
        assert KERNEL.pack_uuids(ids) is None
    if all(type(i) is str for i in ids):
        assert seenrows.encode(ids) == seenrows.to_json(ids)


@native
def test_kernel_checks_its_arguments() -> None:
    with pytest.raises(TypeError):
        KERNEL.pack_uuids(tuple(GOOD))
    with pytest.raises(ValueError):
        KERNEL.unpack_uuids(b"x" * 17)
    with pytest.raises(TypeError):
        KERNEL.unpack_uuids("00" * 16)


def _rows(path) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as c:
        return c.execute("SELECT typeof(ids), length(ids) FROM monitor_seen ORDER BY seq").fetchall()


def test_sqlite_rows_packed_and_both_forms_reload(tmp_path) -> None:
    path = tmp_path / "seen.db"
    db = Database(str(path))
    db.upgrade()
    # a row as every version before the packed form wrote it: UUIDs in JSON
    with sqlite3.connect(path) as c:
        c.execute("INSERT INTO monitor_seen (expires_at, ids) VALUES (?, ?)", (1600.5, seenrows.to_json(IDS[:100])))
    d = Dedup(db, 600.0)
    assert d.load(1000.0) == 100
    assert d.admit(IDS[100:200], 1001.0) is None  # fresh: one packed row
    assert d.admit(["evt-1", "evt-2"], 1002.0) is None  # not UUIDs: a JSON row
    assert d.admit(IDS[50:210], 1003.0) == [False] * 150 + [True] * 10  # old JSON ids and packed ids both seen
    assert _rows(path) == [("text", len(seenrows.to_json(IDS[:100]))), ("blob", 1600), ("text", len('["evt-1","evt-2"]')),
                           ("blob", 160)]
    again = Dedup(db, 600.0)  # a restart
    assert again.load(1004.0) == 212
    assert again.seen == set(IDS[:210]) | {"evt-1", "evt-2"}
    assert [ids for _, ids in again._expiry] == [IDS[:100], IDS[100:200], ["evt-1", "evt-2"], IDS[200:210]]
    assert again.admit(IDS[:210] + ["evt-2"], 1005.0) == [False] * 211
    db.dispose()


def test_python_reference_writes_the_same_rows(tmp_path, monkeypatch) -> None:
    """Without the kernel (``FENGHUO_NATIVE=0``) the same rows are written and read."""
    monkeypatch.setattr(seenrows, "KERNEL", None)
    path = tmp_path / "seen.db"
    db = Database(str(path))
    db.upgrade()
    d = Dedup(db, 600.0)
    d.commit(IDS[:10], 1000.0)
    d.commit(["x"], 1000.0)
    assert _rows(path) == [("blob", 160), ("text", 5)]
    again = Dedup(db, 600.0)
    assert again.load(1001.0) == 11 and [ids for _, ids in again._expiry] == [IDS[:10], ["x"]]
    db.dispose()


def test_packed_on_sqlite_json_on_postgres(db_factory) -> None:
    """PostgreSQL's column is ``text``: its rows stay JSON; both read back through SQLAlchemy."""
    db = db_factory()
    d = Dedup(db, 600.0)
    d.commit(IDS[:10], 1000.0)
    with db.reader() as s:
        got = s.execute(text("SELECT ids FROM monitor_seen")).scalar_one()
    assert got == (seenrows.pack(IDS[:10]) if db.is_sqlite else seenrows.to_json(IDS[:10]))
    again = Dedup(db, 600.0)
    assert again.load(1001.0) == 10 and again.seen == set(IDS[:10])
