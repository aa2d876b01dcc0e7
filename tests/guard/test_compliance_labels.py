"""Issue 18, item 10 (part): the implicit label's literal field order (GB 45438 App. E, CN-LB-12),
Label "1" for content the provider generated (CN-LB-13), and propagation elements equal to the
production elements on first write (CN-LB-14) — written out here, not read from labels.FIELDS."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.guard.labels import LabelConfig, Labeller, verify


def test_seven_fields_in_the_standards_order_and_first_write_propagator_is_producer():
    key = Ed25519PrivateKey.generate()
    meta = Labeller(LabelConfig(producer="zhiyi-health"), key).implicit("evt-0001")
    f = meta["AIGC"]
    assert list(f) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID",
                       "ReservedCode2"]
    assert f["Label"] == "1"
    assert (f["ContentPropagator"], f["PropagateID"]) == (f["ContentProducer"], f["ProduceID"]) == ("zhiyi-health", "evt-0001")
    assert verify(meta, key.public_key())
    reordered = {"AIGC": {k: f[k] for k in reversed(list(f))}}
    assert not verify(reordered, key.public_key())
