"""Registration files: a malformed file names file, line and field, and writes nothing."""

from __future__ import annotations

import pytest

from fenghuo.control import services as registry
from fenghuo.ledger import store
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.registry.spec import load_registration, parse_registration
from tests.foundation.fixtures import ADMIN, OP_A, REG_BJ, seed


def ledger_len(db) -> int:
    with db.reader() as s:
        return store.count(s)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "svc.yaml"
    p.write_text("id: x\nname: [unclosed\nprovider: p\n")
    with pytest.raises(Invalid) as e:
        load_registration(p)
    assert str(p) in e.value.en and e.value.details["line"] in (2, 3, 4)


def test_wrong_field_names_file_line_and_field(tmp_path):
    p = tmp_path / "svc.yaml"
    p.write_text("id: x\nname: X\nprovider: pa\nsector: general\nfunction: content_generation\n"
                 "modalities: [text]\nreach: lots\nno_human_in_loop: false\n")
    with pytest.raises(Invalid) as e:
        load_registration(p)
    assert e.value.details["line"] == 7 and e.value.details["field"] == "reach"
    assert f"{p}:7" in e.value.en


def test_unknown_sector_in_a_list_file_points_into_the_list(tmp_path):
    p = tmp_path / "reg.yaml"
    p.write_text("services:\n  - id: x\n    name: X\n    provider: pa\n    sector: astrology\n"
                 "    function: content_generation\n    modalities: [text]\n    reach: 1\n    no_human_in_loop: false\n")
    with pytest.raises(Invalid) as e:
        load_registration(p)
    assert e.value.details["field"] == "services.0.sector" and e.value.details["line"] == 5


def test_unknown_field_is_refused():
    with pytest.raises(Invalid) as e:
        parse_registration("{id: x, name: X, provider: pa, sector: general, function: content_generation, "
                           "modalities: [text], reach: 1, no_human_in_loop: false, colour: red}")
    assert e.value.details["field"] == "colour"


def test_a_refused_file_writes_nothing(db):
    seed(db)
    before = ledger_len(db)
    text = """services:
  - {id: ok-one, name: OK, provider: pa, sector: general, function: content_generation, modalities: [text], reach: 1, no_human_in_loop: false}
  - {id: bad-one, name: Bad, provider: nobody, sector: general, function: content_generation, modalities: [text], reach: 1, no_human_in_loop: false}
"""
    with pytest.raises(Invalid):
        registry.register(db, ADMIN, parse_registration(text))
    assert ledger_len(db) == before
    assert [v["id"] for v in registry.list_services(db, ADMIN)] == ["a-chat", "a-med", "b-chat"]


def test_operator_registers_only_for_its_provider_and_regulator_not_at_all(db):
    seed(db)
    other = "{id: x, name: X, provider: pb, sector: general, function: content_generation, modalities: [text], reach: 1, no_human_in_loop: false}"
    with pytest.raises(Forbidden):
        registry.register(db, OP_A, parse_registration(other))
    with pytest.raises(Forbidden):
        registry.register(db, REG_BJ, parse_registration(other.replace("pb", "pa")))
    [r] = registry.register(db, OP_A, parse_registration(other.replace("pb", "pa")))
    assert r["result"] == "registered"
