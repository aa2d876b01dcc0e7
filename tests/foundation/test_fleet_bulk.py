"""The bulk registration path (issue 19, ``control.bulk_register``): the faster pieces it is made
of give what the pieces they replace gave, and a bulk file that mixes new services, updates and
a repeated id, or holds a bad row, ends as registering its services one at a time would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fenghuo.control import services as registry
from fenghuo.demo.fleet import fleet
from fenghuo.ledger import store as ledger
from fenghuo.ledger.chain import canonical, canonical_plain, entry_hash, entry_hash_plain
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry.grading import GradingTable, Reason, _holds, available_tables, get_table, grade
from fenghuo.registry.models import Service
from fenghuo.registry.spec import RegistrationFile, ServiceSpec
from tests.foundation.test_fleet_registration import _one_by_one, _snapshot

ADMIN = local_actor()

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
plain = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | texts,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(plain)
def test_canonical_plain_writes_canonical_text(value):
    assert canonical_plain(value) == canonical(value)


class Tag(str):
    pass


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, {"k": Tag("v")}, [Tag("x")], {1: "int key"},
                                   "\x00\x1f\x7f\u2028\u2029\"\\/\ufeff😀", {"b": 1, "a": {"é": [], "e": None}}])
def test_canonical_plain_edges(value):
    """What orjson would write differently or refuse goes through canonical()."""
    assert canonical_plain(value) == canonical(value)


def test_canonical_plain_refuses_what_canonical_refuses():
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate: canonical writes it, hashing refuses it
        canonical_plain("\ud800").encode("utf-8")
    with pytest.raises(TypeError):
        canonical_plain({"when": object()})


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**62), texts, texts, texts, texts, plain)
def test_entry_hash_plain_is_entry_hash(seq, ts, kind, subject, actor, payload):
    text = canonical(payload)
    fields = {"seq": seq, "ts": ts, "kind": kind, "subject": subject, "actor": actor, "payload": text, "prev_hash": "ab" * 32}
    assert entry_hash_plain(seq, "ab" * 32, ts, kind, subject, actor, text) == entry_hash(fields)


def _grade_before(table: GradingTable, attributes: dict[str, Any]):
    """``grade`` as it was before the rule mask (session 23)."""
    best, reasons = 0, []
    for rule in table.rules:
        if all(_holds(attributes.get(a), c) for a, c in rule.when.items()):
            reasons.append(Reason(rule.id, rule.grade, rule.reason.zh, rule.reason.en))
            best = max(best, table.rank(rule.grade))
    reasons.sort(key=lambda r: -table.rank(r.grade))
    return best, reasons


@pytest.mark.parametrize("table_id", sorted(available_tables()))
def test_grading_by_mask_grades_as_before(table_id):
    table = get_table(table_id)
    for spec in fleet(600, provinces=1).services:
        attrs = spec.grading_attributes()
        g, (best, reasons) = grade(table, attrs), _grade_before(table, attrs)
        assert g.grade == table.grades[best].id
        assert g.reasons == (reasons or g.reasons) and (reasons or g.reasons[0].rule == "baseline")


def test_a_mixed_file_equals_one_by_one(db_factory, tmp_path):
    """New services, an update of a registered one in the middle, a repeated id and a service
    graded by another table (EU: a prohibited practice starts stopped), in one file."""
    from fenghuo.platform.db import Database

    reg = fleet(90, provinces=1)
    head = RegistrationFile(jurisdictions=reg.jurisdictions, providers=reg.providers, services=reg.services[:30])
    eu = ServiceSpec.model_validate({**reg.services[40].model_dump(), "id": "eu-one", "grading_table": "eu-ai-act",
                                     "practices": ["social_scoring"]})
    changed = reg.services[5].model_copy(update={"reach": 90_000_000})
    again = reg.services[50].model_copy(update={"name": "renamed"})
    tail = RegistrationFile(services=[*reg.services[30:45], changed, eu, *reg.services[45:], again])
    bulk_db, alone_db = db_factory(), Database(str(tmp_path / "alone.db"))
    alone_db.upgrade()
    try:
        bulk = registry.register(bulk_db, ADMIN, head) + registry.register(bulk_db, ADMIN, tail)
        alone = _one_by_one(alone_db, head) + [r for svc in tail.services
                                                for r in registry.register(alone_db, ADMIN, RegistrationFile(services=[svc]))]
        assert bulk == alone
        by_id = [(r["service"], r["result"], r["grade"]) for r in bulk[-len(tail.services):]]
        assert by_id[15][0] == "svc000005" and by_id[15][1] in ("regraded", "updated") and by_id[16] == ("eu-one", "registered", "prohibited")
        assert by_id[-1][:2] == ("svc000050", "updated")
        assert registry.get(bulk_db, ADMIN, "eu-one")["state"]["state"] == "stopped"
        assert _snapshot(bulk_db) == _snapshot(alone_db)
    finally:
        alone_db.dispose()


def test_a_bad_row_is_named_and_nothing_lands(db_factory):
    db = db_factory()
    reg = fleet(40, provinces=1)
    registry.register(db, ADMIN, RegistrationFile(jurisdictions=reg.jurisdictions, providers=reg.providers))
    seq = _head(db)
    cases = [
        (reg.services[12].model_copy(update={"provider": "nobody"}), Invalid, "svc000012", "provider"),
        (reg.services[12].model_copy(update={"jurisdiction": "nowhere"}), Invalid, "svc000012", "jurisdiction"),
        (reg.services[12].model_copy(update={"grading_table": "no-such-table"}), Invalid, "svc000012", "grading_table"),
    ]
    for bad, exc, named, field in cases:
        with pytest.raises(exc) as e:
            registry.register(db, ADMIN, RegistrationFile(services=[*reg.services[:12], bad, *reg.services[13:]]))
        assert named in e.value.en and named in e.value.zh and e.value.details["field"] == field
        assert _head(db) == seq and _count(db) == 0
    op = Actor("op", Role.operator, provider_id=reg.services[0].provider)
    with pytest.raises(Forbidden):  # another provider's service, after one of its own
        registry.register(db, op, RegistrationFile(services=[reg.services[0], reg.services[1]]))
    for role in (Role.regulator, Role.auditor, Role.system):
        with pytest.raises(Forbidden):
            registry.register(db, Actor("x", role, jurisdiction_id="cn"), RegistrationFile(services=reg.services[:3]))
    assert _head(db) == seq and _count(db) == 0
    registry.register(db, ADMIN, RegistrationFile(services=reg.services))
    assert _count(db) == 40 and _head(db) == seq + 80


def test_bulk_rows_read_back_as_orm_rows(db_factory):
    """The rows written without ORM objects read back as the ORM writes them: JSON columns,
    the sector column its listener keeps, and the entries' canonical payloads."""
    db = db_factory()
    reg = fleet(20, provinces=1)
    registry.register(db, ADMIN, reg)
    with db.reader() as s:
        svc = s.get(Service, "svc000003")
        spec = reg.services[3]
        assert svc.sector == spec.sector and svc.attributes["labels"] == spec.labels
        assert svc.jurisdiction_path.endswith(f"{svc.jurisdiction_id}/")
        entries = list(ledger.iter_entries(s, subject="svc000003"))
        assert [e["kind"] for e in entries] == ["service.registered", "switch.changed"]
        assert json.loads(entries[0]["payload"])["service"] == spec.model_dump()
        assert ledger.verify(s).ok


def _head(db) -> int:
    with db.reader() as s:
        return ledger.head(s)[0]


def _count(db) -> int:
    with db.reader() as s:
        return len(s.execute(select(Service.id)).all())
