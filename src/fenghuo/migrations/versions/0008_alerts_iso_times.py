"""alerts times as ISO 8601 UTC text, like every other domain

The 13 time columns of alert_warnings, alert_silences and alert_notifications were UNIX seconds
(Float), and so were the "holding since" values inside alert_warnings.rules (JSON). They become
canonical timestamp text (``platform.clock.iso``: 2026-01-01T00:00:00.000000Z, fixed width so
comparing the text compares the times).

Each table: read every row's times first, change the column types, then write each row's
converted times. Reading first keeps full precision (SQLite's batch copy casts REAL to text
with 15 significant digits, which would lose microseconds); converting in Python keeps one
code path, tested on SQLite and PostgreSQL alike.

Revision ID: 0008_alerts_iso_times
Revises: 0007_switch_incident
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0008_alerts_iso_times'
down_revision = '0007_switch_incident'
branch_labels = None
depends_on = None

# table -> (time column, nullable); warnings' rules JSON is handled beside them
COLUMNS = {
    'alert_warnings': [('started_at', False), ('fired_at', True), ('resolved_at', True), ('clearing_since', True),
                       ('ack_at', True), ('updated_at', False)],
    'alert_silences': [('starts_at', False), ('ends_at', True), ('created_at', False), ('ended_at', True)],
    'alert_notifications': [('next_attempt_at', False), ('created_at', False), ('sent_at', True)],
}


def _iso(x):
    # the same text as fenghuo.platform.clock.iso_seconds; written out so that this revision
    # keeps meaning what it meant when the platform's helpers change
    if x is None:
        return None
    return datetime.fromtimestamp(float(x), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds(text):
    if text is None:
        return None
    ts = datetime.fromisoformat(str(text))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def _convert(name, cols, convert, new_type, pg_using):
    bind = op.get_bind()
    times = [c for c, _ in cols]
    warnings = name == 'alert_warnings'
    # read with the old types (no type: the driver's own values, before any cast)
    raw = sa.table(name, sa.column('id'), *[sa.column(c) for c in times])
    rows = bind.execute(sa.select(raw)).mappings().all()
    rules = {}
    if warnings:
        typed = sa.table(name, sa.column('id'), sa.column('rules', sa.JSON))
        rules = dict(bind.execute(sa.select(typed.c.id, typed.c.rules)).all())
    with op.batch_alter_table(name) as batch:
        for col, nullable in cols:
            batch.alter_column(col, type_=new_type, existing_nullable=nullable, postgresql_using=pg_using.format(c=col))
    if not rows:
        return
    out = sa.table(name, sa.column('id'), *[sa.column(c, new_type) for c in times],
                   *([sa.column('rules', sa.JSON)] if warnings else []))
    params = []
    for r in rows:
        values = {f'v_{c}': convert(r[c]) for c in times}
        if warnings:
            values['v_rules'] = {k: convert(v) for k, v in (rules.get(r['id']) or {}).items()}
        params.append({'v_id': r['id'], **values})
    names = times + (['rules'] if warnings else [])
    stmt = out.update().where(out.c.id == sa.bindparam('v_id')).values({c: sa.bindparam(f'v_{c}') for c in names})
    bind.execute(stmt, params)


def upgrade() -> None:
    # PostgreSQL cannot cast double precision to varchar without USING; the text is replaced below
    for name, cols in COLUMNS.items():
        _convert(name, cols, _iso, sa.String(length=32), '{c}::text')


def downgrade() -> None:
    # PostgreSQL must cast the text to a number to change the type; the exact seconds follow below
    for name, cols in COLUMNS.items():
        _convert(name, cols, _seconds, sa.Float(), 'extract(epoch from {c}::timestamptz)')
