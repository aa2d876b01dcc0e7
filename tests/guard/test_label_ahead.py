"""Labels signed ahead in idle time (guard.label_ahead): what ``issue`` hands out is the same
kind of label as one signed per call, fresh, under the current configuration, in id order."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.guard import label_ahead
from fenghuo.guard.labels import LabelConfig, Labeller, verify

from .helpers import wait_for


@pytest.fixture
def lab():
    lab = Labeller(LabelConfig(producer="acme"), Ed25519PrivateKey.generate())
    if not lab.sign_ahead():
        pytest.skip("no SCHED_IDLE on this system: labels are signed per call")
    yield lab
    lab.ahead.stop()


def test_labels_made_ahead_verify_and_come_in_id_order(lab):
    lab.issue()  # the first asks for labels to be made
    assert wait_for(lambda: len(lab.ahead._ready) >= label_ahead.HIGH, timeout=5)
    got = [lab.issue() for _ in range(label_ahead.HIGH)]
    assert lab.ahead.stats["ahead"] >= label_ahead.HIGH - 1
    pids = [pid for pid, _ in got]
    assert pids == sorted(pids) and len(set(pids)) == len(pids)
    for pid, meta in got:
        assert meta["AIGC"]["ProduceID"] == meta["AIGC"]["PropagateID"] == pid
        assert meta["AIGC"]["ContentProducer"] == "acme" and verify(meta, lab.public)
        assert meta["AIGC"]["ReservedCode1"].startswith("ed25519m:")  # made in batches under one signature each


def test_a_new_configuration_or_an_old_label_is_not_handed_out(lab, monkeypatch):
    lab.issue()
    assert wait_for(lambda: len(lab.ahead._ready) >= label_ahead.LOW, timeout=5)
    lab.config = LabelConfig(producer="other")  # what the CLI does once it knows the provider
    _, meta = lab.issue()
    assert meta["AIGC"]["ContentProducer"] == "other" and verify(meta, lab.public)
    assert lab.ahead.stats["stale"] >= label_ahead.LOW
    assert wait_for(lambda: len(lab.ahead._ready) >= label_ahead.LOW, timeout=5)
    monkeypatch.setattr(label_ahead, "MAX_AGE", 0.0)
    time.sleep(0.01)
    stale = lab.ahead.stats["stale"]
    pid, meta = lab.issue()  # every ready one is too old: signed now
    assert lab.ahead.stats["stale"] > stale and verify(meta, lab.public) and meta["AIGC"]["ProduceID"] == pid


def test_without_idle_priority_nothing_runs(monkeypatch):
    monkeypatch.setattr(label_ahead, "idle_priority", lambda tid: False)
    lab = Labeller(LabelConfig(producer="acme"), Ed25519PrivateKey.generate())
    assert lab.sign_ahead() is False and lab.ahead is None
    _, meta = lab.issue()
    assert verify(meta, lab.public)


def _no_thread(producer: str = "acme") -> Labeller:
    """A labeller whose stock only calls fill: the signing thread never started (a core too busy
    to give it idle time looks the same to ``take``)."""
    lab = Labeller(LabelConfig(producer=producer), Ed25519PrivateKey.generate())
    lab.ahead = label_ahead.SignedAhead(lab)
    return lab


def test_calls_close_together_sign_a_batch_and_the_next_calls_take_it(monkeypatch):
    monkeypatch.setattr(label_ahead, "BURST", 60.0)  # every run-out counts as close to the last
    lab = _no_thread()
    signed = []
    sign = lab._sign
    lab._sign = lambda data: signed.append(data) or sign(data)
    first = lab.issue()  # none ready, no run-out before: one label, signed in the call
    assert lab.ahead.stats == {"ahead": 0, "inline": 1, "batched": 0, "stale": 0} and not lab.ahead._ready
    got = [first] + [lab.issue() for _ in range(label_ahead.BATCH)]  # the 2nd signs BATCH, the next BATCH - 1 take them
    assert lab.ahead.stats == {"ahead": 0, "inline": 2, "batched": label_ahead.BATCH - 1, "stale": 0}
    assert not lab.ahead._ready
    pids = [pid for pid, _ in got]
    assert pids == sorted(pids) and len(set(pids)) == len(pids)
    for pid, meta in got:
        assert meta["AIGC"]["ProduceID"] == meta["AIGC"]["PropagateID"] == pid and verify(meta, lab.public)
    # the lone first label signed alone (single form), the batch under one signature over its tree's root
    assert len(signed) == 2 and got[0][1]["AIGC"]["ReservedCode1"].startswith("ed25519:")
    batch_rc1 = [meta["AIGC"]["ReservedCode1"].split(":") for _, meta in got[1:]]
    assert [(kind, index) for kind, _, _, index, _ in batch_rc1] == [("ed25519m", str(i)) for i in range(label_ahead.BATCH)]
    assert len({sig for _, _, sig, _, _ in batch_rc1}) == 1
    lab.config = LabelConfig(producer="other")  # a batch of the old configuration is never handed out
    lab.issue()  # run-out: signs a batch under "other"
    lab.config = LabelConfig(producer="third")
    _, meta = lab.issue()
    assert meta["AIGC"]["ContentProducer"] == "third" and verify(meta, lab.public)
    assert lab.ahead.stats["stale"] == label_ahead.BATCH - 1


def test_calls_far_apart_sign_one_label_each(monkeypatch):
    monkeypatch.setattr(label_ahead, "BURST", 0.0)  # no two run-outs count as close
    lab = _no_thread()
    for _ in range(3):
        _, meta = lab.issue()
        assert verify(meta, lab.public) and not lab.ahead._ready  # nothing signed for later: it would go stale
    assert lab.ahead.stats == {"ahead": 0, "inline": 3, "batched": 0, "stale": 0}
