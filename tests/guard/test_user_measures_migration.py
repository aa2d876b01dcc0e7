"""Migration 0015_user_measures up, down and up again, and the measures' store, on SQLite and
PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from fenghuo.control import services as registry
from fenghuo.control import user_measures
from fenghuo.platform.migrate import config
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import parse_registration

from .helpers import REGISTRY


def _run(db, fn, revision: str) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_up_down_up_and_store(db_factory):
    db = db_factory()
    registry.register(db, local_actor(), parse_registration(REGISTRY))
    m = user_measures.apply(db, local_actor(), "open-chat", "u1", "restrict", "r", rate=5, until="1d")
    assert m["rate"] == 5 and m["until"] > m["applied_at"]
    user_measures.apply(db, local_actor(), "closed-med", "u1", "suspend", "r")
    assert [x["measure"] for x in user_measures.listing(db, local_actor(), "open-chat")["measures"]] == ["restrict"]
    with db.reader() as s:
        assert set(user_measures.in_force(s, ["open-chat", "closed-med"], m["applied_at"])) == {"open-chat", "closed-med"}
    user_measures.lift(db, local_actor(), "open-chat", "u1", "ok")
    assert user_measures.listing(db, local_actor(), "open-chat")["measures"] == []
    assert len(user_measures.listing(db, local_actor(), "open-chat", include_ended=True)["measures"]) == 1
    _run(db, command.downgrade, "0014_console")
    assert "user_measures" not in inspect(db.engine).get_table_names(schema=db_factory.schema)
    _run(db, command.upgrade, "head")
    assert "user_measures" in inspect(db.engine).get_table_names(schema=db_factory.schema)
