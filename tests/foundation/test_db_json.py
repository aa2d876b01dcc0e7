"""JSON columns read back what was written, on SQLite and PostgreSQL, through the database's
orjson reader — and, on SQLite, the NaN and Infinity that Python's json.dumps writes and orjson
refuses (PostgreSQL's json type rejects them on insert)."""

from __future__ import annotations

import math

from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

VALUES = [
    {"名称": "服务", "nested": {"list": [1, 2.5, None, True], "s": "a\u2028b"}},
    [{"code": "A.1.a", "score": 0.125}],
    "plain string",
    12345678901234567,
]
ODD = {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")}


def test_json_columns_round_trip(db_factory):
    db = db_factory(upgrade=False)
    table = Table("json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("doc", JSON))
    table.create(db.engine)
    with db.engine.begin() as conn:
        rows = VALUES + [ODD] if db.is_sqlite else VALUES
        conn.execute(insert(table), [{"id": i, "doc": v} for i, v in enumerate(rows)])
    with db.read_engine.connect() as conn:
        got = [doc for _, doc in conn.execute(select(table).order_by(table.c.id))]
    assert got[:len(VALUES)] == VALUES
    if db.is_sqlite:
        odd = got[-1]
        assert math.isnan(odd["nan"]) and odd["inf"] == math.inf and odd["ninf"] == -math.inf
