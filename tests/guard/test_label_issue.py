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


def test_the_fast_signer_gives_the_keys_own_signature_over_the_production_fields():
    """The label is signed with libsodium when PyNaCl is there (labels.signer): Ed25519 is
    deterministic, so its signature must be byte for byte the one cryptography's key gives, over
    exactly the bytes _signed_bytes spells for the label's fields."""
    import pytest

    pytest.importorskip("nacl")
    from fenghuo.guard.labels import _signed_bytes, _unb64, signer

    key = Ed25519PrivateKey.generate()
    fast = signer(key)
    assert fast is not key.sign  # the libsodium path, not the fallback
    for data in (b"", b"AIGC-production;Label=1", "中文 ProduceID".encode() * 50):
        assert fast(data) == key.sign(data)
    lab = Labeller(LabelConfig(producer="acme"), key)
    _, meta = lab.issue()
    f = meta["AIGC"]
    assert list(f) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"]
    sig = _unb64(f["ReservedCode1"].rpartition(":")[2])
    assert sig == key.sign(_signed_bytes(f))
