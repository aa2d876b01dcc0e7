"""Issue 18, item 10 (CN-LB-10/13/14/16): the producer's signature covers only the production
fields, so a propagation platform writes its own elements without breaking it; Label values 2
and 3 for content without a producer's label; the literal field order; `fenghuo label
propagate`. Field names and values are written out here, not read from the module."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.cli import root
from fenghuo.guard import labels
from fenghuo.guard.label_propagate import PropagationRefused, propagate
from fenghuo.guard.labels import LabelConfig, Labeller

ORDER = ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"]


@pytest.fixture()
def key():
    return Ed25519PrivateKey.generate()


def _label(key, producer="zhiyi-health", produce_id="evt-0001"):
    return Labeller(LabelConfig(producer=producer), key).implicit(produce_id)["AIGC"]


def test_first_write_order_and_propagator_is_producer(key):
    f = _label(key)
    assert list(f) == ORDER
    assert f["Label"] == "1"
    assert (f["ContentPropagator"], f["PropagateID"]) == (f["ContentProducer"], f["ProduceID"]) == ("zhiyi-health", "evt-0001")
    assert labels.verify(f, key.public_key())


def test_signature_survives_propagation_and_order_is_kept(key):
    f = _label(key)
    p = propagate(f, "weibo-cn", "wb-778899")
    assert list(p) == ORDER
    assert (p["ContentPropagator"], p["PropagateID"], p["ReservedCode2"]) == ("weibo-cn", "wb-778899", "")
    assert {k: p[k] for k in ORDER[:4]} == {k: f[k] for k in ORDER[:4]}
    assert labels.verify(p, key.public_key())
    again = propagate(p, "douyin", "dy-1")  # a second platform passes it on
    assert labels.verify(again, key.public_key()) and again["ContentPropagator"] == "douyin"
    # a platform writing anything into ReservedCode2 keeps it valid too
    assert labels.verify({**p, "ReservedCode2": "sha256:abc"}, key.public_key())


@pytest.mark.parametrize(("field", "value"), [("Label", "3"), ("ContentProducer", "someone-else"), ("ProduceID", "evt-0002")])
def test_tampering_a_production_field_fails_after_propagation(key, field, value):
    p = propagate(_label(key), "weibo-cn", "wb-1")
    forged = {**p, field: value}
    assert not labels.verify(forged, key.public_key())
    assert "altered or forged" in labels.problem(forged, key.public_key())[1]


def test_wrong_key_and_emptied_signature_fail(key):
    p = propagate(_label(key), "weibo-cn", "wb-1")
    other = Ed25519PrivateKey.generate()
    assert "signed by another key" in labels.problem(p, other.public_key())[1]
    assert "no producer signature" in labels.problem({**p, "ReservedCode1": ""}, key.public_key())[1]


def test_label_values_2_and_3_round_trip_for_unlabelled_content(key):
    for value in ("2", "3"):
        p = propagate(None, "weibo-cn", "wb-9", label=value)
        assert list(p) == ORDER
        assert p == {"Label": value, "ContentProducer": "", "ProduceID": "", "ReservedCode1": "",
                     "ContentPropagator": "weibo-cn", "PropagateID": "wb-9", "ReservedCode2": ""}
        back = labels.unwrap(json.dumps({"AIGC": p}))
        assert back == p and list(back) == ORDER
        assert labels.problem(p, key.public_key())[1].startswith("no producer signature")  # not the producer's label
    assert "not 1, 2 or 3" in labels.problem({**_label(key), "Label": "4"}, key.public_key())[1]
    with pytest.raises(PropagationRefused, match="--label 2"):
        propagate(None, "weibo-cn", "wb-9")
    with pytest.raises(PropagationRefused, match="producer signed"):
        propagate(_label(key), "weibo-cn", "wb-9", label="2")  # a signed Label 1 stays 1
    with pytest.raises(PropagationRefused, match="characters"):
        propagate(None, "weibo cn", "wb-9", label="2")


def test_labels_of_the_old_format_still_verify_until_propagated(key):
    """Before this change ReservedCode1 was a bare signature over the six other fields."""
    f = {"Label": "1", "ContentProducer": "zhiyi-health", "ProduceID": "evt-7", "ReservedCode1": "",
         "ContentPropagator": "zhiyi-health", "PropagateID": "evt-7", "ReservedCode2": "ed25519:x"}
    kid = "ed25519:" + labels.key_id(key.public_key())
    f["ReservedCode2"] = kid
    signed = ";".join(f"{k}={f[k]}" for k in ORDER if k != "ReservedCode1").encode()
    f["ReservedCode1"] = base64.urlsafe_b64encode(key.sign(signed)).rstrip(b"=").decode()
    assert labels.verify(f, key.public_key())
    assert not labels.verify({**f, "ContentProducer": "x"}, key.public_key())
    assert not labels.verify({**f, "PropagateID": "wb-1"}, key.public_key())  # documented: old labels sign propagation too


def test_cli_propagate_keeps_the_signature_and_adds_notices(tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_LABEL_KEY", str(tmp_path / "label.pem"))
    lab = Labeller()
    body = {"object": "chat.completion", "AIGC": lab.implicit("01-evt")["AIGC"],
            "choices": [{"message": {"role": "assistant", "content": lab.explicit("你好")}}]}
    (tmp_path / "body.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    run = CliRunner()
    r = run.invoke(root, ["label", "propagate", str(tmp_path / "body.json"), "--platform", "weibo-cn", "--id", "wb-5",
                          "-o", str(tmp_path / "out.json")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert out["AIGC"]["ContentPropagator"] == "weibo-cn" and out["AIGC"]["ContentProducer"] == "fenghuo"
    assert out["choices"][0]["message"]["content"] == "你好\n【本内容由人工智能生成 / AI-generated】"  # not doubled
    r = run.invoke(root, ["label", "verify", "--json", str(tmp_path / "out.json")], catch_exceptions=False)
    assert r.exit_code == 0 and json.loads(r.stdout)["valid"]
    # --label 2 on a signed label is refused
    r = run.invoke(root, ["label", "propagate", str(tmp_path / "body.json"), "--platform", "weibo-cn", "--label", "2"])
    assert r.exit_code != 0 and "propagation_refused" in r.stderr
    # an unlabelled answer from elsewhere: Label 3 and the visible "suspected" notice
    plain = {"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": "一段文字"}}]}
    r = run.invoke(root, ["label", "propagate", "-", "--platform", "weibo-cn", "--label", "3"], input=json.dumps(plain))
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert list(out["AIGC"]) == ORDER and out["AIGC"]["Label"] == "3"
    assert out["choices"][0]["message"]["content"] == "一段文字\n【本内容疑似由人工智能生成 / suspected AI-generated】"
    # the header value form and a stream keep their form
    header = "AIGC: " + Labeller.header_value({"AIGC": body["AIGC"]})
    r = run.invoke(root, ["label", "propagate", "-", "--platform", "douyin", "--id", "dy-1"], input=header)
    assert r.exit_code == 0 and r.stdout.startswith("AIGC: ")
    assert labels.verify(r.stdout[5:], lab.public) and labels.unwrap(r.stdout[5:].strip())["ContentPropagator"] == "douyin"
    stream = ('data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"hi"}}]}\n\n'
              f'data: {json.dumps({"object": "chat.completion.chunk", "choices": [], "AIGC": body["AIGC"]})}\n\ndata: [DONE]\n')
    r = run.invoke(root, ["label", "propagate", "-", "--platform", "douyin"], input=stream)
    assert r.exit_code == 0 and r.stdout.count("data:") == 3 and '"ContentPropagator": "douyin"' in r.stdout
    r = run.invoke(root, ["label", "verify", "-"], input=r.stdout)
    assert r.exit_code == 0
