"""`corpus scan` on the planted corpus: verdicts exact at 4.9 % and 5.1 %, PII joined against
consent, the same numbers from every engine and batch size for one seed."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from fenghuo.corpus.engines import pipeline_for
from fenghuo.corpus.figures import selected, wilson
from fenghuo.corpus.manifest import load_manifest
from fenghuo.corpus.scan import Settings, run_scan
from tests.corpus.corpus_gen import HARMFUL


def test_planted_texts_are_what_the_checks_say(planted):
    """If this fails, the shipped checks changed: the planted figures below would be wrong."""
    p = pipeline_for(None)
    assert all(p.scan(t).blocked for t in HARMFUL)
    for source in ("web-a", "web-b", "users", "books-en", "synth"):
        texts = set(planted.texts[source]) - set(HARMFUL)
        wrong = [t for t in texts if p.scan(t).blocked]
        assert not wrong, (source, wrong[:5])
    pii = [planted.texts["users"][line - 1] for _, line in planted.consented + planted.unconsented]
    assert all(any(c.startswith("pii") for c in p.scan(t).categories) for t in pii)


def test_verdicts_come_out_exactly(scanned, planted):
    body, _, _ = scanned
    by_id = {s["id"]: s for s in body["sources"]}
    a, b = by_id["web-a"], by_id["web-b"]
    assert (a["scanned"], a["harmful"], a["rate"], a["verdict"]) == (1000, 49, 0.049, "use")
    assert (b["scanned"], b["harmful"], b["rate"], b["verdict"]) == (1000, 51, 0.051, "do-not-use")
    lo, hi = wilson(51, 1000)
    assert (b["ci_low"], b["ci_high"]) == (round(lo, 6), round(hi, 6))
    assert a["ci_low"] < 0.049 < a["ci_high"]
    assert body["totals"]["do_not_use"] == ["web-b"]
    for s in ("users", "books-en", "synth"):
        assert by_id[s]["harmful"] == 0 and by_id[s]["verdict"] == "use"
    if planted.public:  # public text: the scan counts what the checks say, one by one
        p = pipeline_for(None)
        assert by_id["cold-public"]["harmful"] == sum(p.scan(t).blocked for t in planted.texts["cold-public"])
    assert body["totals"]["scanned"] == sum(planted.sizes.values())


def test_unconsented_pii_is_listed_and_consented_is_not(scanned, planted):
    body, run, _ = scanned
    listed = {(u["file"], u["line"]) for u in body["unconsented_pii"]}
    assert listed == set(planted.unconsented)
    users = {s["id"]: s for s in body["sources"]}["users"]
    assert (users["pii"], users["pii_unconsented"]) == (20, 10)
    table = pq.read_table(run / "results.parquet").to_pylist()
    assert len(table) == sum(planted.sizes.values())
    consented = {(r["file"], r["line"]) for r in table if r["consented"] is True}
    assert consented == set(planted.consented)
    # CN-TC-10 stages: every harmful row names the checks that blocked it, and only then.
    assert all(bool(r["blocked_by"]) == r["harmful"] for r in table)
    stages = body["totals"]["blocked_by"]
    assert set(stages) <= {"lexicon", "rules", "classifier"} and max(stages.values()) <= body["totals"]["harmful"]
    assert sum(stages.values()) >= body["totals"]["harmful"]


def test_scan_is_in_the_ledger(scanned, planted):
    body, _, db = scanned
    from fenghuo.ledger import store
    from fenghuo.platform.db import open_database

    with open_database(db).reader() as s:
        e = list(store.iter_entries(s))[-1]
    payload = e["payload"] if isinstance(e["payload"], dict) else json.loads(e["payload"])
    assert e["kind"] == "corpus.scan" and e["subject"] == "corpus:planted"
    assert payload["results_sha256"] == body["results_sha256"]
    assert payload["settings"] == {"fraction": 1.0, "seed": 0, "checks": "default"}
    assert len(payload["data_files"]) == len(load_manifest(planted.manifest).files())


def test_fraction_is_the_same_whatever_the_engine_and_batching(planted, small_checks):
    """Small checks: each spawned worker loads its own pipeline; equality does not depend on it."""
    m = load_manifest(planted.manifest)
    one = run_scan(m, Settings(fraction=0.3, seed=5, engine="inline", batch=7, checks=small_checks), None)
    two = run_scan(m, Settings(fraction=0.3, seed=5, engine="local", workers=2, batch=256, checks=small_checks), None)
    assert one["totals"]["harmful"] > 0 and one["totals"]["pii"] > 0
    assert one["results_sha256"] == two["results_sha256"]
    assert one["sources"] == two["sources"]
    n = sum(selected(5, 0.3, s.id, f, line) for s in m.sources for f, line in _where(s))
    assert one["totals"]["scanned"] == n and 0.25 < n / one["totals"]["samples"] < 0.35
    other = run_scan(m, Settings(fraction=0.3, seed=6, engine="inline", checks=small_checks), None)
    assert other["results_sha256"] != one["results_sha256"]


def _where(src):
    from fenghuo.corpus.readers import read_source

    return [(x.file, x.line) for x in read_source(src)]


def test_ray_gives_the_local_numbers(planted, ray_local, small_checks):
    m = load_manifest(planted.manifest)
    local = run_scan(m, Settings(fraction=0.2, seed=11, engine="inline", checks=small_checks), None)
    on_ray = run_scan(m, Settings(fraction=0.2, seed=11, engine="ray", batch=512, checks=small_checks), None)
    assert local["totals"]["harmful"] > 0 and local["totals"]["pii"] > 0
    assert on_ray["results_sha256"] == local["results_sha256"]
    assert on_ray["sources"] == local["sources"]


def test_five_percent_is_an_exact_boundary_and_nothing_scanned_fails_closed():
    from fenghuo.corpus.figures import source_figures

    assert source_figures("s", 1000, 50)["verdict"] == "use"
    assert source_figures("s", 1000, 51)["verdict"] == "do-not-use"
    assert source_figures("s", 20, 1)["verdict"] == "use" and source_figures("s", 19, 1)["verdict"] == "do-not-use"
    assert source_figures("s", 0, 0)["verdict"] == "do-not-use"
