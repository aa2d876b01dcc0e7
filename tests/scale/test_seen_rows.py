"""``scale.seen.Seen`` reads ``monitor_seen`` rows of both forms (``monitor.seenrows``): JSON, and
the UUIDs the embedded ingest packs on SQLite, which a database that moved to NATS mode may still
hold within the window; it writes JSON, which every database's column takes."""

from __future__ import annotations

import sqlite3
import uuid

from fenghuo.monitor import seenrows
from fenghuo.monitor.dedup import Dedup
from fenghuo.platform.db import Database
from fenghuo.scale.seen import Seen

IDS = [str(uuid.UUID(int=(i * 0x2545F4914F6CDD1D_9E3779B97F4A7C15) % (1 << 128))) for i in range(1, 41)]


def test_seen_reads_packed_and_json_rows(tmp_path) -> None:
    path = tmp_path / "seen.db"
    db = Database(str(path))
    db.upgrade()
    embedded = Dedup(db, 900.0)
    embedded.commit(IDS[:20], 1000.0)  # packed (UUIDs on SQLite)
    embedded.commit(["evt-a", "evt-b"], 1001.0)  # JSON
    seen = Seen(900.0)
    with db.transaction() as s:
        seen.record(s, IDS[20:40], 1002.0)  # the leader's own rows: JSON
    with sqlite3.connect(path) as c:
        forms = [r[0] for r in c.execute("SELECT typeof(ids) FROM monitor_seen ORDER BY seq")]
    assert forms == ["blob", "text", "text"]
    taken_over = Seen(900.0)
    assert taken_over.load(db, 1003.0) == 42
    assert taken_over.ids == set(IDS) | {"evt-a", "evt-b"}
    assert [ids for _, ids in taken_over._expiry] == [IDS[:20], ["evt-a", "evt-b"], IDS[20:40]]
    assert taken_over.fresh([IDS[0], "evt-b", IDS[39], "new"]) == [False, False, False, True]
    assert seenrows.decode(seenrows.to_json(IDS[20:40])) == IDS[20:40]
    db.dispose()
