"""Many rows in one statement on PostgreSQL (issue 19: bulk registration ≥ 1,000 services a second).

``insert_rows`` writes a list of rows as ``INSERT INTO t (...) SELECT ... FROM unnest($1, $2, ...)``:
one parameter per column (an array of that column's values) and one execution, where
``executemany`` sends and the server plans, executes and answers one INSERT per row (a batch of
1,000 services is 4,000 rows in three tables). ``one_of`` is ``column IN values`` with the
values as one array parameter, where ``column.in_(values)`` renders a bind per value (~0.5 ms of
compiling per 500 ids); see ``one_of`` for the form it takes. On SQLite both are what they
replace: ``insert(table)`` executed with the rows, and ``IN (...)``.

The stored values are what the plain insert stores: a string or integer array element is cast by
the insert to its column's type (the same assignment cast, so a value too long for its column
fails as before, not truncated), and a JSON value is serialized by the dialect's serializer as
SQLAlchemy's JSON type does (None → ``null`` unless the type stores it as SQL NULL).
tests/foundation/test_bulk_sql.py compares the rows both ways write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, Integer, String, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def _array_type(column: Any) -> tuple[str, str] | None:
    """(the array parameter's element type, the cast of an element into the column), or None for a
    column this path does not write (the plain insert then writes the rows)."""
    t = column.type
    if isinstance(t, JSON):
        return "text", "JSONB" if t.__class__.__name__ == "JSONB" else "JSON"
    if isinstance(t, Boolean):
        return "boolean", ""
    if isinstance(t, Integer):
        return "bigint", ""
    if isinstance(t, String):  # String, Text, VARCHAR
        return "text", ""
    return None


def _json_texts(column: Any, values: list[Any], dumps: Any) -> list[str | None]:
    """``values`` serialized as the JSON type's bind processor does; a value object met again (a
    list shared by many rows) is serialized once."""
    as_null = column.type.none_as_null
    seen: dict[int, str] = {}
    out: list[str | None] = []
    for v in values:
        if v is None and as_null:
            out.append(None)
            continue
        text = seen.get(id(v))
        if text is None:
            text = seen[id(v)] = dumps(v)
        out.append(text)
    return out


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, each a column of ``table``) in one statement.
    Falls back to ``session.execute(insert(table), rows)`` off PostgreSQL, when the rows do not
    all name the same columns, when a column they leave out has a client-side default (which
    only the plain insert runs), or when a column's type is not one this path writes."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    names = list(rows[0])
    plan = [(table.c[n], _array_type(table.c[n])) if n in table.c else (None, None) for n in names]
    if (dialect.name != "postgresql" or any(a is None for _, a in plan)
            or any(c.default is not None for c in table.c if c.name not in rows[0])
            or any(r.keys() != rows[0].keys() for r in rows)):
        session.execute(insert(table), rows)
        return
    quote = dialect.identifier_preparer.quote
    dumps = dialect._json_serializer or json.dumps
    params: dict[str, list[Any]] = {}
    unnested, selected = [], []
    for i, (name, (column, (elem, cast))) in enumerate(zip(names, plan)):
        values = [r[name] for r in rows]
        params[f"c{i}"] = _json_texts(column, values, dumps) if cast else values
        unnested.append(f"CAST(%(c{i})b AS {elem}[])")  # binary: psycopg escapes text arrays in Python
        selected.append(f"CAST(u.c{i} AS {cast})" if cast else f"u.c{i}")
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quote(n) for n in names)}) "
           f"SELECT {', '.join(selected)} FROM unnest({', '.join(unnested)}) AS u({', '.join(f'c{i}' for i in range(len(names)))})")
    conn.exec_driver_sql(sql, params)


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` with the values as one array parameter on PostgreSQL (``column IN
    (SELECT unnest(:values))``), an ``IN`` list elsewhere. Written as a subquery, not ``column =
    ANY(:values)``: on a small table (jurisdictions, providers) the planner scans it and tests
    each row against the whole array, 300 × 1,024 comparisons (16 ms) for a batch's
    jurisdictions, where the subquery is a hash semi-join (< 1 ms) on a small table and index
    probes on a large one."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        # an unbounded VARCHAR[]: a cast to the column's VARCHAR(n) would cut a longer value short
        # (and match a stored id it only begins with)
        elem = String() if isinstance(column.type, String) else column.type
        return column.in_(select(func.unnest(bindparam(None, values, type_=ARRAY(elem)))).scalar_subquery())
    return column.in_(values)
