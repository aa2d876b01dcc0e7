"""Every listing a keyset page (issue 19): warnings, incidents, complaints, tokens, pending
commands, guard instances, silences and the delivery log. Walking the pages gives every row the
listing selects exactly once, in its order (ties on the time broken by the id), whatever the
filter or the actor's scope; HTTP follows the same cursor; a bad limit or cursor is a 422 naming
the field; the migration creates the indexes the models declare (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from fenghuo.alerts import silences, store
from fenghuo.alerts.models import NotificationRow, SilenceRow, WarningRow
from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import command_pages
from fenghuo.control import services as registry
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.instances import InstanceBook
from fenghuo.control.models import Command
from fenghuo.control.transitions import Action, State, lookup
from fenghuo.demo.fleet import fleet
from fenghuo.platform import pages
from fenghuo.platform.auth import Token
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Base
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry import tokens
from fenghuo.registry.tokens import create_token
from fenghuo.response import action_pages, complaints, incidents
from fenghuo.response.models import ComplaintTicket, Incident, PlanActionRow

ADMIN = local_actor()
N_SERVICES, N = 90, 260
REGULATOR = Actor("p00-cac", Role.regulator, jurisdiction_id="p00")
LEVELS = ("blue", "yellow", "orange", "red")


def _when(i: int) -> str:
    return f"2026-03-01T10:{i % 17:02d}:00.000000Z"  # 17 distinct times over 260 rows: ties everywhere


@pytest.fixture
def lists_db(db_factory):
    """The generated lists on a database of the test's own (for the tests that write or count everything)."""
    return _fill(db_factory())


@pytest.fixture(scope="module")
def read_lists_db(module_db_factory):
    """The same lists, made once per backend for the tests that only read them (pages, filters,
    refused cursors): filling them is ~1-3 s a test under make test's load."""
    return _fill(module_db_factory())


def _fill(db):
    reg = fleet(N_SERVICES, provinces=2)
    registry.register(db, ADMIN, reg)
    svc = {s.id: (s.provider, next(j for j in reg.providers if j.id == s.provider).jurisdiction) for s in reg.services}
    ids = sorted(svc)
    rng = random.Random(19)
    rows: dict[str, list[dict]] = {}
    pick = [ids[rng.randrange(len(ids))] for _ in range(N)]
    rows["warnings"] = [{"id": f"w-{rng.getrandbits(40):010x}", "fingerprint": f"{i:032x}", "active": None, "alert": f"a{i % 3}",
                         "service_id": pick[i], "state": ("pending", "firing", "resolved")[i % 3], "level": LEVELS[rng.randrange(4)],
                         "rule": "r", "value": 1.0, "description": "", "started_at": _when(i), "rules": {}, "flaps": 0,
                         "labels": {"source": "response.clock"}, "updated_at": _when(i)} for i in range(N)]
    rows["incidents"] = [{"id": f"inc-{rng.getrandbits(40):010x}", "service_id": pick[i], "provider_id": svc[pick[i]][0], "title": "t",
                          "grade": ("IV", "III", "II", "I")[i % 4], "grade_inputs": {}, "flags": [], "status": ("open", "ended")[i % 2],
                          "opened_by": "t", "source": "plan", "detected_at": _when(i), "opened_at": _when(i),
                          "profile": "cn-2025-operator", "profile_version": "1"} for i in range(N)]
    rows["complaints"] = [{"id": f"cpl-{rng.getrandbits(40):010x}", "service_id": pick[i], "provider_id": svc[pick[i]][0],
                           "category": "complaint", "channel": "web", "content": "c", "received_at": _when(i),
                           "due_at": None if i % 5 else _when(i), "status": ("open", "handled", "closed")[i % 3],
                           "overdue": i % 7 == 0, "created_by": "t"} for i in range(N)]
    rows["instances"] = [{"id": f"g-{rng.getrandbits(40):010x}", "service_id": pick[i], "state": "running", "version": 1,
                          "enforced_since": _when(i), "last_seen": "2000-01-01T00:00:00.000000Z" if i % 4 == 0 else "2999-01-01T00:00:00.000000Z",
                          "failsafe": i % 9 == 0, "meta": {}} for i in range(N)]
    rows["commands"] = [{"id": f"c-{rng.getrandbits(40):010x}", "service_id": pick[i], "action": list(Action)[i % len(Action)].value,
                         "params": {}, "reason": "r", "actor": "t", "status": "awaiting_approval" if i % 5 else "applied",
                         "from_state": "running", "to_state": "paused", "approvals_needed": 0, "created_at": _when(i)} for i in range(N)]
    rows["tokens"] = [{"token_hash": f"{rng.getrandbits(256):064x}", "name": f"t{i}", "role": ("operator", "regulator", "auditor")[i % 3],
                       "provider_id": svc[pick[i]][0], "created_at": _when(i), "revoked": i % 6 == 0,
                       "expires_at": "2000-01-01T00:00:00.000000Z" if i % 10 == 1 else None} for i in range(N)]
    rows["silences"] = [{"id": f"s-{rng.getrandbits(40):010x}", "matchers": [], "starts_at": _when(i), "ends_at": "2999-01-01T00:00:00.000000Z",
                         "until_resolved": False, "reason": "r", "author": "t", "created_at": _when(i),
                         "ended_at": _when(i) if i % 4 == 0 else None, "scope_provider": svc[pick[i]][0] if i % 2 else None,
                         "scope_path": None if i % 2 else ("cn/p00/" if i % 4 else "cn/p01/")} for i in range(N)]
    rows["notifications"] = [{"id": f"n-{rng.getrandbits(40):010x}", "group_key": "g", "warning_ids": [rows["warnings"][i]["id"]],
                              "channel": ("oncall", "email")[i % 2], "kind": "firing", "level": "red", "payload": {},
                              "status": ("sent", "failed", "silenced")[i % 3], "attempts": 1, "next_attempt_at": _when(i),
                              "created_at": _when(i)} for i in range(N)]
    rows["actions"] = [{"id": f"act-{rng.getrandbits(40):010x}", "warning_id": rows["warnings"][i]["id"], "service_id": pick[i],
                        "plan_id": "p", "plan_version": "1", "trigger_id": "t", "action_id": "a", "kind": "pause", "owner": "o",
                        "status": ("awaiting_approval", "applied")[i % 2], "approvals_needed": 1, "approval_role": "operator",
                        "params": {}, "detail": "", "due_at": _when(i), "created_at": _when(i)} for i in range(N)]
    models = {"actions": PlanActionRow, "warnings": WarningRow, "incidents": Incident, "complaints": ComplaintTicket, "instances": GuardInstance,
              "commands": Command, "tokens": Token, "silences": SilenceRow, "notifications": NotificationRow}
    with db.transaction() as s:
        for key, model in models.items():
            s.execute(sa.insert(model), rows[key])
    db.rows, db.svc = rows, svc
    return db


def walk(fetch, limit: int) -> list[str]:
    """Every page from the first: ids in order; no id twice; no page over the limit."""
    got, after = [], None
    while True:
        page = fetch(after, limit)
        assert len(page.items) <= limit
        got += [_id(x) for x in page.items]
        if page.next is None:
            assert len(got) == len(set(got))
            return got
        assert len(page.items) == limit
        after = page.next


def _id(v: dict) -> str:
    if "plan" in v:  # a plan step: its id is "action" (and "command" the switch command it gives)
        return v["action"]
    return v.get("id") or v.get("command") or v.get("instance")


def newest(rows: list[dict], key: str, keep=lambda r: True) -> list[str]:
    return [r["id"] for r in sorted((r for r in rows if keep(r)), key=lambda r: (r[key], r["id"]), reverse=True)]


def oldest(rows: list[dict], key: str, keep=lambda r: True, ident: str = "id") -> list[str]:
    return [r[ident] for r in sorted((r for r in rows if keep(r)), key=lambda r: (r[key], r[ident]))]


def in_p00(db, service: str) -> bool:
    return db.svc[service][1].startswith("p00")


def test_warnings_pages(read_lists_db):
    db, w = read_lists_db, read_lists_db.rows["warnings"]

    def fetch(f, actor=ADMIN):
        return lambda after, limit: store.warning_page(db, actor, f, after=after, limit=limit)

    assert walk(fetch(store.WarningFilter()), 23) == newest(w, "started_at")
    assert walk(fetch(store.WarningFilter(state="open")), 9) == newest(w, "started_at", lambda r: r["state"] != "resolved")
    assert walk(fetch(store.WarningFilter(level="red", state="firing")), 4) == \
        newest(w, "started_at", lambda r: r["level"] == "red" and r["state"] == "firing")
    one = w[7]["service_id"]
    assert walk(fetch(store.WarningFilter(service=one)), 2) == newest(w, "started_at", lambda r: r["service_id"] == one)
    mine = newest(w, "started_at", lambda r: in_p00(db, r["service_id"]))
    assert mine and len(mine) < N and walk(fetch(store.WarningFilter(), REGULATOR), 11) == mine
    prov = db.svc[one][0]
    op = Actor("op", Role.operator, provider_id=prov)
    assert walk(fetch(store.WarningFilter(), op), 3) == newest(w, "started_at", lambda r: db.svc[r["service_id"]][0] == prov)
    with pytest.raises(Invalid) as e:
        store.warning_page(db, ADMIN, store.WarningFilter(level="purple"))
    assert e.value.details["field"] == "level"


def test_incidents_and_complaints_pages(read_lists_db):
    db, inc, cpl = read_lists_db, read_lists_db.rows["incidents"], read_lists_db.rows["complaints"]

    def incs(f, actor=ADMIN):
        return lambda after, limit: incidents.incident_page(db, actor, f, after=after, limit=limit)

    assert walk(incs(incidents.IncidentFilter()), 50) == newest(inc, "opened_at")
    assert walk(incs(incidents.IncidentFilter(status="open", grade="重大")), 7) == \
        newest(inc, "opened_at", lambda r: r["status"] == "open" and r["grade"] == "II")
    assert walk(incs(incidents.IncidentFilter(), REGULATOR), 13) == newest(inc, "opened_at", lambda r: in_p00(db, r["service_id"]))
    first = incidents.incident_page(db, ADMIN, limit=1).items[0]
    assert first == incidents.get(db, ADMIN, first["id"])  # a page's view is the single view
    with pytest.raises(Invalid) as e:
        incidents.incident_page(db, ADMIN, incidents.IncidentFilter(grade="V"))
    assert e.value.details["field"] == "grade"

    def tickets(actor=ADMIN, **kw):
        return lambda after, limit: complaints.ticket_page(db, actor, after=after, limit=limit, **kw)

    assert walk(tickets(), 31) == newest(cpl, "received_at")
    assert walk(tickets(status="open", overdue=True), 2) == newest(cpl, "received_at", lambda r: r["status"] == "open" and r["overdue"])
    assert walk(tickets(REGULATOR), 17) == newest(cpl, "received_at", lambda r: in_p00(db, r["service_id"]))
    acts = db.rows["actions"]

    def steps(f, actor=ADMIN):
        return lambda after, limit: action_pages.action_page(db, actor, f, after=after, limit=limit)

    assert walk(steps(action_pages.ActionFilter()), 29) == oldest(acts, "created_at")
    assert walk(steps(action_pages.ActionFilter(status="awaiting_approval"), REGULATOR), 6) == \
        oldest(acts, "created_at", lambda a: a["status"] == "awaiting_approval" and in_p00(db, a["service_id"]))
    counts = complaints.counts(db, REGULATOR)
    seen = [r for r in cpl if in_p00(db, r["service_id"])]
    assert counts == {"total": len(seen), "open": sum(r["status"] == "open" for r in seen),
                      "handled": sum(r["status"] == "handled" for r in seen), "closed": sum(r["status"] == "closed" for r in seen),
                      "overdue": sum(r["overdue"] for r in seen), "no_limit": sum(r["due_at"] is None for r in seen)}


def test_tokens_commands_instances_silences_notifications(read_lists_db):
    db, rows = read_lists_db, read_lists_db.rows
    tok = rows["tokens"]
    by_id = {t["token_hash"][:12]: t for t in tok}

    def toks(f):
        return lambda after, limit: tokens.token_page(db, f, after=after, limit=limit)

    assert [by_id[i]["token_hash"] for i in walk(toks(tokens.TokenFilter()), 40)] == oldest(tok, "created_at", ident="token_hash")
    active = [by_id[i] for i in walk(toks(tokens.TokenFilter(status="active", role="operator")), 8)]
    assert [t["token_hash"] for t in active] == oldest(
        tok, "created_at", lambda t: t["role"] == "operator" and not t["revoked"] and t["expires_at"] is None, ident="token_hash")

    cmds = rows["commands"]
    applies = {(st.value, a.value) for st in State for a in Action if lookup(st, a)}

    def pend(actor=ADMIN, stale=False):
        return lambda after, limit: command_pages.pending_page(db, actor, include_stale=stale, after=after, limit=limit)

    waiting = [c for c in cmds if c["status"] == "awaiting_approval"]
    assert walk(pend(stale=True), 19) == oldest(waiting, "created_at")
    live = oldest(waiting, "created_at", lambda c: ("running", c["action"]) in applies)  # every service is running
    assert live and len(live) < len(waiting) and walk(pend(), 6) == live
    assert walk(pend(REGULATOR, True), 5) == oldest(waiting, "created_at", lambda c: in_p00(db, c["service_id"]))

    inst, book = rows["instances"], InstanceBook(db)

    def insts(actor=ADMIN, **kw):
        return lambda after, limit: book.page(actor, after=after, limit=limit, **kw)

    assert walk(insts(), 27) == sorted(r["id"] for r in inst)
    assert walk(insts(silent=True), 8) == sorted(r["id"] for r in inst if r["last_seen"] < "2500")
    assert walk(insts(REGULATOR, failsafe=False, silent=False), 4) == \
        sorted(r["id"] for r in inst if in_p00(db, r["service_id"]) and not r["failsafe"] and r["last_seen"] > "2500")

    sil = rows["silences"]
    assert walk(lambda a, k: silences.silence_page(db, ADMIN, True, after=a, limit=k), 33) == newest(sil, "created_at")
    assert walk(lambda a, k: silences.silence_page(db, ADMIN, False, after=a, limit=k), 33) == \
        newest(sil, "created_at", lambda r: r["ended_at"] is None)
    assert walk(lambda a, k: silences.silence_page(db, REGULATOR, True, after=a, limit=k), 7) == \
        [x["id"] for x in silences.list_silences(db, True, REGULATOR)]

    note = rows["notifications"]
    assert walk(lambda a, k: store.notification_page(db, store.NotificationFilter(status="failed"), after=a, limit=k), 10) == \
        newest(note, "created_at", lambda r: r["status"] == "failed")
    target = rows["warnings"][5]["id"]
    with db.reader() as s:
        assert [n["id"] for n in store.notifications_of(s, target)] == [note[5]["id"]]


@pytest.mark.parametrize("bad", ["", "x", "!!!", pages.encode(["only-one"]), pages.encode([1, None]), "a" * 3000])
def test_a_bad_cursor_names_after(read_lists_db, bad):
    with pytest.raises(Invalid) as e:
        store.warning_page(read_lists_db, ADMIN, after=bad)
    assert e.value.details["field"] == "after"


def test_http_pages_and_refusals(lists_db):
    db = lists_db
    token = create_token(db, ADMIN, "root", Role.admin)
    reg = create_token(db, ADMIN, "cac", Role.regulator, jurisdiction_id="p00")
    lists = {"/api/v1/warnings": newest(db.rows["warnings"], "started_at"),
             "/api/v1/incidents": newest(db.rows["incidents"], "opened_at"),
             "/api/v1/complaints": newest(db.rows["complaints"], "received_at"),
             "/api/v1/instances": sorted(r["id"] for r in db.rows["instances"]),
             "/api/v1/notifications": newest(db.rows["notifications"], "created_at"),
             "/api/v1/plan-actions": oldest(db.rows["actions"], "created_at")}
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, \
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for path, want in lists.items():
            got, params = [], {"limit": 60}
            while True:
                r = http.get(path, params=params)
                assert r.status_code == 200, r.text
                got += [_id(x) for x in r.json()]
                if "X-Next-Cursor" not in r.headers:
                    break
                assert r.headers["Link"].startswith(f"<{path}?") and 'rel="next"' in r.headers["Link"]
                params = {"limit": 60, "after": r.headers["X-Next-Cursor"]}
            # the running server may add rows (a ticket's overdue warning, its notifications)
            assert len(got) == len(set(got)) and [i for i in got if i in set(want)] == want, path
        r = http.get("/api/v1/warnings", params={"limit": 1000}, headers={"Authorization": f"Bearer {reg}"})
        mine = newest(db.rows["warnings"], "started_at", lambda x: in_p00(db, x["service_id"]))
        assert [w["id"] for w in r.json() if w["id"] in set(mine)] == mine
        for path in ("/api/v1/warnings", "/api/v1/incidents", "/api/v1/complaints", "/api/v1/tokens", "/api/v1/commands/pending",
                     "/api/v1/instances", "/api/v1/silences", "/api/v1/notifications", "/api/v1/plan-actions"):
            for limit in (0, 1001, "x"):
                r = http.get(path, params={"limit": limit})
                assert r.status_code == 422 and "limit" in r.json()["error"]["message"], (path, r.text)
            r = http.get(path, params={"after": "not-a-cursor"})
            assert r.status_code == 422 and r.json()["error"]["field"] == "after", (path, r.text)
        assert http.get("/api/v1/tokens", params={"limit": 1000}).status_code == 200
        runner = CliRunner()
        out = runner.invoke(root, ["--server", server.url, "--token", token, "alerts", "list", "--state", "open", "--limit", "7", "--json"])
        assert [w["id"] for w in json.loads(out.stdout)] == [w["id"] for w in store.warning_page(db, ADMIN, store.WarningFilter(state="open"),
                                                                                                   limit=7).items]
        out = runner.invoke(root, ["--server", server.url, "--token", token, "incident", "list", "--all", "--limit", "40", "--json"])
        assert [v["id"] for v in json.loads(out.stdout)] == [v["id"] for v in incidents.list_incidents(db, ADMIN)]


def test_local_cli_pages(lists_db):
    if not lists_db.is_sqlite:
        return  # the local CLI opens a database by --db URL; a PostgreSQL test schema has none (HTTP covers PostgreSQL)
    db, runner, url = lists_db, CliRunner(), lists_db.url
    want = newest(db.rows["complaints"], "received_at")
    first = runner.invoke(root, ["--db", url, "complaint", "list", "--limit", "5"])
    assert first.exit_code == 0 and "--after" in first.stderr
    cursor = first.stderr.split("--after ")[1].split()[0]
    second = runner.invoke(root, ["--db", url, "complaint", "list", "--limit", "5", "--after", cursor, "--json"])
    assert [v["id"] for v in json.loads(second.stdout)] == want[5:10]
    every = runner.invoke(root, ["--db", url, "token", "list", "--all", "--limit", "25", "--json"])
    assert len(json.loads(every.stdout)) == N
    for args in (["alerts", "silences", "--all", "--every-page"], ["alerts", "log", "--all"], ["pending", "--all", "--every-page"],
                 ["instances", "--silent", "--all"]):
        r = runner.invoke(root, ["--db", url, *args, "--limit", "9", "--json"])
        assert r.exit_code == 0, (args, r.output)
        assert json.loads(r.stdout), args


def test_migration_creates_the_indexes_the_models_declare(lists_db, db_factory):
    tables = ["alert_warnings", "alert_silences", "alert_notifications", "response_incidents", "response_complaints", "tokens",
              "commands", "guard_instances", "response_actions"]
    inspector = sa.inspect(lists_db.engine)
    for table in tables:
        declared = {i.name: [c.name for c in i.columns] for i in Base.metadata.tables[table].indexes}
        made = {i["name"]: i["column_names"] for i in inspector.get_indexes(table, schema=db_factory.schema)}
        for name, cols in declared.items():
            assert made.get(name) == cols, (table, name)
