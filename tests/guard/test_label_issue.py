"""``Labeller.issue``: a fresh ProduceID and the label that signs it, as every gateway call
takes one."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.guard.labels import LabelConfig, Labeller, verify


def test_each_issued_label_verifies_and_names_its_own_fresh_id_and_the_current_producer():
    lab = Labeller(LabelConfig(producer="acme"), Ed25519PrivateKey.generate())
    got = [lab.issue() for _ in range(50)]
    assert len({pid for pid, _ in got}) == 50
    for pid, meta in got:
        assert meta["AIGC"]["ProduceID"] == meta["AIGC"]["PropagateID"] == pid
        assert meta["AIGC"]["ContentProducer"] == "acme" and verify(meta, lab.public)
    lab.config = LabelConfig(producer="other")  # what the CLI does once it knows the provider
    _, meta = lab.issue()
    assert meta["AIGC"]["ContentProducer"] == "other" and verify(meta, lab.public)
