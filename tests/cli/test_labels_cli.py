"""`fenghuo keys export` and `fenghuo label verify`; labels.verify on every form a label
travels in (issue 15)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.cli import root
from fenghuo.guard import labels
from fenghuo.guard.labels import Labeller


def _invoke(*args, input=None):  # noqa: A002 - click's name
    return CliRunner().invoke(root, list(args), input=input, catch_exceptions=False)


def test_verify_accepts_the_label_as_body_header_and_text_carry_it():
    lab = Labeller()
    meta = lab.implicit("01-produce-id")
    public = lab.public
    assert labels.verify(meta, public)  # {"AIGC": {...}}, as the header carries it
    assert labels.verify(meta["AIGC"], public)  # the object, as a body's "AIGC" member
    assert labels.verify(Labeller.header_value(meta), public)  # the header's JSON text
    forged = {**meta["AIGC"], "ContentProducer": "someone-else"}
    assert not labels.verify(forged, public)
    assert "altered or forged" in labels.problem(forged, public)[1]
    assert not labels.verify({"AIGC": "nope"}, public) and not labels.verify("not json", public)
    other = Labeller(key=Ed25519PrivateKey.generate())
    assert "signed by another key" in labels.problem(meta, other.public)[1]


def test_keys_export_and_label_verify_from_the_command_line(tmp_path):
    r = _invoke("keys", "export", "--json")
    assert r.exit_code == 1 and json.loads(r.stderr)["error"]["code"] == "no_key"  # never created by asking
    lab = Labeller()  # creates this deployment's label key
    meta = lab.implicit("01-produce-id")
    r = _invoke("keys", "export", "--which", "label", "-o", str(tmp_path / "pub"))
    assert r.exit_code == 0, r.output
    pem = (tmp_path / "pub" / "label-public.pem").read_bytes()
    assert serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw) == lab.public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    r = _invoke("keys", "export")  # both: the ledger key does not exist yet, so it is named and skipped
    assert r.exit_code == 0 and "BEGIN PUBLIC KEY" in r.stdout and "no ledger key" in r.stderr

    body = {"object": "chat.completion", "AIGC": meta["AIGC"],
            "choices": [{"message": {"role": "assistant", "content": lab.explicit("你好")}}]}
    (tmp_path / "body.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    r = _invoke("label", "verify", "--key", str(tmp_path / "pub" / "label-public.pem"), "--json", str(tmp_path / "body.json"))
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["valid"] and out["found_in"] == "chat.completion body" and out["explicit_label"]
    r = _invoke("label", "verify", "-", input="AIGC: " + Labeller.header_value(meta))
    assert r.exit_code == 0 and "label valid" in r.stdout and "header value" in r.stdout
    stream = ('data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"hi"}}]}\n\n'
              f'data: {json.dumps({"object": "chat.completion.chunk", "choices": [], "AIGC": meta["AIGC"]})}\n\ndata: [DONE]\n')
    r = _invoke("label", "verify", "-", input=stream)
    assert r.exit_code == 0 and "stream chunk" in r.stdout
    forged = {**meta["AIGC"], "ProduceID": "02-other"}
    r = _invoke("label", "verify", "-", input=json.dumps(forged))
    assert r.exit_code == 1 and "label not valid" in r.stdout
    r = _invoke("label", "verify", "--json", "-", input="no label here")
    assert r.exit_code == 1 and json.loads(r.stderr)["error"]["code"] == "no_label"
