"""Putting a migrated PostgreSQL schema a test has used back exactly as the migration left it.

``snapshot`` records a freshly migrated schema; ``reset`` later compares the schema with it and
either restores it (True) or says it cannot be reused (False: drop it). In one transaction:
- any DDL the test ran (a table, column, index, constraint, default, trigger, type, function,
  comment ... created, changed or dropped; a downgrade and upgrade) shows as a catalog row with a
  new ``xmin``, or a row more or less: not reusable. So does a changed ``alembic_version`` row;
- every table the test wrote to (or that was vacuumed or analyzed since) differs from the
  snapshot in its files' size or in pg_class's pages and tuples: it is TRUNCATEd (with the empty
  tables whose foreign keys point at it), which gives it new, empty files as CREATE TABLE did;
  its planner statistics and activity counters are cleared, as a new table has none, and its
  indexes' pg_class entries are put back to what CREATE INDEX recorded;
- every sequence the test advanced or set is RESTARTed;
- the schema is renamed, so a connection a test left behind finds its schema gone (as when it
  was dropped) and can never write into the next test's; a statement of one waiting on the
  TRUNCATE's lock looks its table up again once it has the lock, and no longer finds it.
Afterwards every relation, sequence and alembic_version row must equal the snapshot again.
"""

from __future__ import annotations

import uuid

# The schema's objects, found through pg_depend (indexed), not by the namespace columns of
# pg_class, pg_type ... (not indexed: a scan of the whole catalog, which on a server that does
# not vacuum its catalogs - autovacuum is off on the CI host - has grown to hundreds of MB of
# dead rows from the schemas tests created and dropped). Every table, sequence, view, type and
# function depends on its schema; indexes, TOAST tables, constraints, defaults, triggers, rules
# and row types on their table. @NS@: the schema's oid, which a rename keeps.
_OBJECTS = """WITH objs AS MATERIALIZED (
    SELECT classid, objid FROM pg_depend WHERE refclassid = 'pg_namespace'::regclass AND refobjid = @NS@),
  tabs AS MATERIALIZED (SELECT objid AS oid FROM objs WHERE classid = 'pg_class'::regclass),
  deps AS MATERIALIZED (
    SELECT classid, objid, objsubid, refobjid, refobjsubid, deptype, xmin::text AS x FROM pg_depend
    WHERE refclassid = 'pg_class'::regclass AND refobjid IN (SELECT oid FROM tabs)),
  rels0 AS MATERIALIZED (SELECT oid FROM tabs UNION SELECT objid FROM deps WHERE classid = 'pg_class'::regclass),
  rels AS MATERIALIZED (SELECT oid FROM rels0 UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM rels0)),
  types0 AS MATERIALIZED (
    SELECT objid AS oid FROM objs WHERE classid = 'pg_type'::regclass
    UNION SELECT reltype FROM pg_class WHERE oid IN (SELECT oid FROM rels) AND reltype <> 0),
  types AS MATERIALIZED (SELECT oid FROM types0 UNION SELECT typarray FROM pg_type WHERE oid IN (SELECT oid FROM types0) AND typarray <> 0)
"""
# The catalog fingerprint: each catalog row's key and xmin. DDL creates, deletes or rewrites
# catalog rows (a new xmin); writes to a table, VACUUM and ANALYZE leave them alone (statistics
# go to pg_class in place and to pg_statistic).
_IN_RELS = "IN (SELECT oid FROM rels)"
_CATALOG = [
    ("pg_namespace", "oid", "oid = @NS@"),
    ("pg_depend", "classid, objid, objsubid, refobjid, refobjsubid, deptype",
     "refclassid = 'pg_namespace'::regclass AND refobjid = @NS@"),
    ("pg_class", "oid", f"oid {_IN_RELS}"),
    ("pg_attribute", "attrelid, attnum", f"attrelid {_IN_RELS}"),
    ("pg_attrdef", "oid", f"adrelid {_IN_RELS}"),
    ("pg_index", "indexrelid", f"indexrelid {_IN_RELS}"),
    ("pg_constraint", "oid", f"conrelid {_IN_RELS}"),
    ("pg_trigger", "oid", f"tgrelid {_IN_RELS}"),
    ("pg_rewrite", "oid", f"ev_class {_IN_RELS}"),
    ("pg_sequence", "seqrelid", f"seqrelid {_IN_RELS}"),
    ("pg_policy", "oid", f"polrelid {_IN_RELS}"),
    ("pg_inherits", "inhrelid, inhseqno", f"inhrelid {_IN_RELS}"),
    ("pg_statistic_ext", "oid", f"stxrelid {_IN_RELS}"),
    ("pg_description", "objoid, classoid, objsubid",
     "objoid IN (SELECT oid FROM rels UNION SELECT objid FROM objs UNION SELECT @NS@::oid)"),
    ("pg_type", "oid", "oid IN (SELECT oid FROM types)"),
    ("pg_proc", "oid", "oid IN (SELECT objid FROM objs WHERE classid = 'pg_proc'::regclass)"),
]
_FINGERPRINT = "md5(concat_ws('|', (SELECT string_agg(concat_ws(':', classid, objid, objsubid, refobjid, refobjsubid, deptype, x), ','" \
    " ORDER BY classid, objid, objsubid, refobjid, refobjsubid, deptype) FROM deps), {}))".format(", ".join(
        f"(SELECT '{cat}:' || string_agg(concat_ws(':', {key}, xmin), ',' ORDER BY {key}) FROM {cat} WHERE {where})"
        for cat, key, where in _CATALOG))
# Per relation (table, index, sequence, TOAST): its oid, kind, files' size (a table's with its
# indexes and TOAST) and what pg_class records of its contents.
_RELATIONS = ("(SELECT json_agg(json_build_array(relname, oid::bigint, relkind,"
              " CASE WHEN relkind IN ('r', 'p', 'm') THEN pg_total_relation_size(oid) ELSE pg_relation_size(oid) END,"
              f" relpages, reltuples, relallvisible) ORDER BY relname) FROM pg_class WHERE oid {_IN_RELS})")
_SEQUENCES = f"{_OBJECTS} SELECT json_agg(relname ORDER BY relname) FROM pg_class WHERE oid {_IN_RELS} AND relkind = 'S'"


def new_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Snapshot:
    """A migrated schema as the migration left it (``name``: what it is called now)."""

    def __init__(self, name: str, ns: int, sequences: list[str], state: dict) -> None:
        self.name, self.ns, self.sequences = name, ns, sequences
        self.migrated = state
        self.fingerprint = state["fingerprint"]  # the catalog's, after the last reset


def snapshot(conn, name: str) -> Snapshot:
    cur = conn.cursor()
    ns = cur.execute("SELECT oid::bigint FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()[0]
    sequences = cur.execute(_SEQUENCES.replace("@NS@", str(ns))).fetchone()[0] or []
    return Snapshot(name, ns, sequences, _state(cur, name, ns, sequences))


def _state(cur, name: str, ns: int, sequences: list[str]) -> dict:
    """One query: the catalog fingerprint, the relations, each sequence's (last_value, log_cnt,
    is_called) and the alembic_version rows (with ctid and xmin: a rewritten row shows)."""
    seqs = "NULL"
    if sequences:
        seqs = "json_build_array({})".format(", ".join(
            f"(SELECT json_build_array(last_value, log_cnt, is_called) FROM {q(name)}.{q(s)})" for s in sequences))
    version = (f"(SELECT json_agg(json_build_array(ctid::text, xmin::text, version_num) ORDER BY version_num)"
               f" FROM {q(name)}.alembic_version)")
    row = cur.execute(f"{_OBJECTS} SELECT {_FINGERPRINT}, {_RELATIONS}, {seqs}, {version}".replace("@NS@", str(ns))).fetchone()
    return {"fingerprint": row[0], "relations": {r[0]: r[1:] for r in row[1]}, "sequences": row[2], "version": row[3]}


_CONTENTS = ("relations", "sequences", "version")


def reset(conn, snap: Snapshot) -> bool:
    """Restore ``snap``'s schema and rename it (``snap.name`` follows); False: DDL was run on it,
    or its revision changed, and it must be dropped. Raises if a lock is not had in 10 s."""
    migrated = snap.migrated
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("SET LOCAL lock_timeout = '10s'")  # a connection a test left inside a transaction
        now = _state(cur, snap.name, snap.ns, snap.sequences)
        if now["fingerprint"] != snap.fingerprint or now["version"] != migrated["version"]:
            return False
        rels, first = now["relations"], migrated["relations"]
        if rels.keys() != first.keys() or rels["alembic_version"] != first["alembic_version"]:
            return False  # its one row was rewritten (and put back)
        dirty = [t for t, r in rels.items() if r[1] in ("r", "p", "m") and r != first[t]]
        stmts = []
        if dirty:
            stmts.append("TRUNCATE " + ", ".join(f"{q(snap.name)}.{q(t)}" for t in dirty) + " CASCADE")
            # TRUNCATE keeps planner statistics and activity counts (which decide when
            # autovacuum analyzes a table); a new table and its indexes have none.
            # (oid-typed throughout: a cast of a catalog's column would keep its index from being used)
            oids = "'{" + ",".join(str(rels[t][0]) for t in dirty) + "}'::oid[]"
            of = f"SELECT unnest({oids}) UNION SELECT indexrelid FROM pg_index WHERE indrelid = ANY({oids})"
            stmts.append(f"DELETE FROM pg_statistic WHERE starelid IN ({of})")
            stmts.append(f"DELETE FROM pg_statistic_ext_data WHERE stxoid IN (SELECT oid FROM pg_statistic_ext WHERE stxrelid = ANY({oids}))")
            stmts.append(f"SELECT pg_stat_reset_single_table_counters(r.oid) FROM ({of}) AS r(oid)")
            # and it leaves an index's pg_class entry at 0 pages and -1 tuples (unknown), where
            # CREATE INDEX on an empty table records 1 page (the metapage) and 0 tuples
            values = ", ".join(f"({r[0]}, {r[3]}, {r[4]}::real, {r[5]})" for r in first.values())
            stmts.append("UPDATE pg_class c SET relpages = v.p, reltuples = v.t, relallvisible = v.a"
                         f" FROM (VALUES {values}) AS v(oid, p, t, a) WHERE c.oid = v.oid::oid"
                         " AND (c.relpages, c.reltuples, c.relallvisible) IS DISTINCT FROM (v.p, v.t, v.a)")
        for seq, state, first in zip(snap.sequences, now["sequences"] or [], migrated["sequences"] or []):
            if state != first:  # nextval or setval was called
                stmts.append(f"ALTER SEQUENCE {q(snap.name)}.{q(seq)} RESTART")
        fresh = new_name()
        stmts.append(f"ALTER SCHEMA {q(snap.name)} RENAME TO {q(fresh)}")
        cur.execute("; ".join(stmts))
        # The reset rewrote catalog rows itself (new files, the new name): the contents must be the
        # migrated schema's again, and the catalog's fingerprint is the reference from now on.
        after = _state(cur, fresh, snap.ns, snap.sequences)
        if any(after[k] != migrated[k] for k in _CONTENTS):
            raise RuntimeError(f"resetting schema {fresh} left it unlike the migrated schema")
    snap.name, snap.fingerprint = fresh, after["fingerprint"]
    return True
