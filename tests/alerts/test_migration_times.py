"""Revision 0008 turns the alerting tables' UNIX-second times into ISO 8601 UTC text. Rows are
written under the previous schema (revision 0007, created by Alembic), then the database is
upgraded: every time, including the "holding since" times inside ``rules``, must read back as
the same instant, and the engine's side (open warnings, silences in force, notifications due)
must work on the converted rows. Then down again: the seconds come back exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from fenghuo.alerts import silences, store
from fenghuo.alerts.models import NotificationRow
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.migrate import config, current_revision, head_revision

PREVIOUS = "0007_switch_incident"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC).timestamp() + 0.123456  # microseconds must survive


def _migrate(db, target: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


F, J, S = sa.Float, sa.JSON, sa.String
WARNINGS = sa.table("alert_warnings", *[sa.column(c, t) for c, t in [
    ("id", S), ("fingerprint", S), ("active", S), ("alert", S), ("service_id", S), ("state", S), ("level", S), ("rule", S),
    ("value", F), ("description", S), ("started_at", F), ("fired_at", F), ("resolved_at", F), ("clearing_since", F),
    ("rules", J), ("flaps", sa.Integer), ("labels", J), ("ack_owner", S), ("ack_by", S), ("ack_at", F), ("ack_note", S),
    ("updated_at", F)]])
SILENCES = sa.table("alert_silences", *[sa.column(c, t) for c, t in [
    ("id", S), ("matchers", J), ("starts_at", F), ("ends_at", F), ("until_resolved", sa.Boolean), ("reason", S),
    ("author", S), ("created_at", F), ("ended_at", F), ("ended_reason", S)]])
NOTIFICATIONS = sa.table("alert_notifications", *[sa.column(c, t) for c, t in [
    ("id", S), ("group_key", S), ("warning_ids", J), ("channel", S), ("kind", S), ("level", S), ("payload", J),
    ("status", S), ("attempts", sa.Integer), ("next_attempt_at", F), ("last_error", S), ("created_at", F),
    ("sent_at", F), ("reason", S)]])


def _old_rows(db) -> None:
    fp = store.fingerprint("error-rate", "svc-a")
    with db.engine.begin() as conn:
        conn.execute(WARNINGS.insert(), [
            dict(id="w-open", fingerprint=fp, active=fp, alert="error-rate", service_id="svc-a", state="firing", level="orange",
                 rule="err-orange", value=0.4, description="", started_at=T0, fired_at=T0 + 60, resolved_at=None,
                 clearing_since=T0 + 90.5, rules={"err-yellow": T0, "err-orange": T0 + 30.000001}, flaps=1,
                 labels={"service": "svc-a"}, ack_owner="ops", ack_by="local", ack_at=T0 + 120, ack_note="on it",
                 updated_at=T0 + 120),
            dict(id="w-done", fingerprint=fp, active=None, alert="error-rate", service_id="svc-a", state="resolved", level="yellow",
                 rule="err-yellow", value=None, description="", started_at=T0 - 3600, fired_at=None, resolved_at=T0 - 3000,
                 clearing_since=None, rules={}, flaps=0, labels={}, ack_owner=None, ack_by=None, ack_at=None, ack_note=None,
                 updated_at=T0 - 3000)])
        conn.execute(SILENCES.insert(), [
            dict(id="s-now", matchers=[{"name": "service", "op": "=", "value": "svc-a"}], starts_at=T0 - 10, ends_at=T0 + 3600,
                 until_resolved=False, reason="maintenance", author="ops", created_at=T0 - 10, ended_at=None, ended_reason=None),
            dict(id="s-later", matchers=[{"name": "service", "op": "=", "value": "svc-b"}], starts_at=T0 + 600, ends_at=None,
                 until_resolved=True, reason="planned", author="ops", created_at=T0 - 10, ended_at=None, ended_reason=None)])
        conn.execute(NOTIFICATIONS.insert(), [
            dict(id="n-due", group_key="svc-a/error-rate", warning_ids=["w-open"], channel="ops", kind="firing", level="orange",
                 payload={}, status="pending", attempts=1, next_attempt_at=T0 - 1, last_error="timeout", created_at=T0 - 2,
                 sent_at=None, reason=None),
            dict(id="n-later", group_key="svc-a/error-rate", warning_ids=["w-open"], channel="ops", kind="repeat", level="orange",
                 payload={}, status="pending", attempts=2, next_attempt_at=T0 + 30, last_error="timeout", created_at=T0 - 1,
                 sent_at=None, reason=None),
            dict(id="n-sent", group_key="svc-a/error-rate", warning_ids=["w-open"], channel="ops", kind="firing", level="orange",
                 payload={}, status="sent", attempts=1, next_attempt_at=T0 - 5, last_error=None, created_at=T0 - 5,
                 sent_at=T0 - 4.5, reason=None)])


def _iso(x: float) -> str:
    return datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_upgrade_converts_rows_written_under_the_previous_schema(db_factory):
    clock = ManualClock(datetime.fromtimestamp(T0, UTC))
    db = db_factory(clock, upgrade=False)
    _migrate(db, PREVIOUS)
    assert current_revision(db) == PREVIOUS
    _old_rows(db)

    db.upgrade()
    assert current_revision(db) == head_revision()

    with db.engine.connect() as conn:  # the stored text, column by column
        w = conn.execute(sa.text("SELECT started_at, fired_at, resolved_at, clearing_since, ack_at, updated_at "
                                 "FROM alert_warnings WHERE id = 'w-open'")).one()
        assert tuple(w) == (_iso(T0), _iso(T0 + 60), None, _iso(T0 + 90.5), _iso(T0 + 120), _iso(T0 + 120))
        assert w.started_at == "2026-03-01T08:00:00.123456Z"
        s = conn.execute(sa.text("SELECT starts_at, ends_at, created_at, ended_at FROM alert_silences WHERE id = 's-later'")).one()
        assert tuple(s) == (_iso(T0 + 600), None, _iso(T0 - 10), None)
        n = conn.execute(sa.text("SELECT next_attempt_at, created_at, sent_at FROM alert_notifications WHERE id = 'n-sent'")).one()
        assert tuple(n) == (_iso(T0 - 5), _iso(T0 - 5), _iso(T0 - 4.5))

    # the views present the stored text; the engine gets its seconds back, to the microsecond
    opened = store.open_warnings(db)
    assert [v["id"] for v in opened] == ["w-open"]
    assert opened[0]["rules_holding"] == {"err-yellow": _iso(T0), "err-orange": _iso(T0 + 30.000001)}
    assert opened[0]["ack"]["at"] == _iso(T0 + 120)
    (state, _labels), = store.load_open(db)
    assert state.started_at == T0 and state.fired_at == T0 + 60 and state.clearing_since == T0 + 90.5
    assert state.rules == {"err-yellow": T0, "err-orange": T0 + 30.000001}

    # comparisons on the converted text: silences in force, notifications due
    with db.reader() as s:
        assert [x.id for x in silences.active_silences(s, T0)] == ["s-now"]
        assert sorted(x.id for x in silences.active_silences(s, T0 + 700)) == ["s-later", "s-now"]
        due = s.execute(sa.select(NotificationRow.id).where(NotificationRow.status == "pending",
                                                            NotificationRow.next_attempt_at <= store.ts(T0))).scalars().all()
        assert due == ["n-due"]
    assert [x["id"] for x in silences.list_silences(db) if x["active"]] == ["s-now"]

    # and back: the previous schema gets exactly its seconds again
    _migrate(db, PREVIOUS, down=True)
    with db.engine.connect() as conn:
        w = conn.execute(sa.select(WARNINGS.c.started_at, WARNINGS.c.clearing_since, WARNINGS.c.rules)
                         .where(WARNINGS.c.id == "w-open")).one()
        assert (w.started_at, w.clearing_since) == (T0, T0 + 90.5)
        assert w.rules == {"err-yellow": T0, "err-orange": T0 + 30.000001}
        assert conn.execute(sa.select(NOTIFICATIONS.c.sent_at).where(NOTIFICATIONS.c.id == "n-sent")).scalar() == T0 - 4.5
