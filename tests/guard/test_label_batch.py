"""Batch-signed labels (guard.label_batch): one Ed25519 signature over a Merkle root, each label
verifying alone with its index and path; any change to a production field, the index, the path
or the signature fails; the two older forms still verify. The hashing is written out here from
the documented format, not read from the module, so a silent change of the format fails."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.cli import root
from fenghuo.guard import labels
from fenghuo.guard.label_propagate import propagate
from fenghuo.guard.labels import LabelConfig, Labeller

ORDER = ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"]


@pytest.fixture(scope="module")
def lab():
    return Labeller(LabelConfig(producer="zhiyi-health"), Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def batch(lab):
    return [meta["AIGC"] for _, meta in lab._implicit_batch(lab.config, 16)]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parts(f):
    kind, kid, sig, index, path = f["ReservedCode1"].split(":")
    return kind, kid, sig, index, path


def _with(f, **parts):
    kind, kid, sig, index, path = _parts(f)
    p = {"kind": kind, "kid": kid, "sig": sig, "index": index, "path": path, **parts}
    return {**f, "ReservedCode1": ":".join(p[k] for k in ("kind", "kid", "sig", "index", "path"))}


def _problem(f, lab):
    why = labels.problem(f, lab.public)
    return why and why[1]


@pytest.mark.parametrize("size", [2, 16, 32])
def test_every_index_of_a_batch_verifies_alone_under_one_signature(lab, size):
    got = lab._implicit_batch(lab.config, size)
    pids = [pid for pid, _ in got]
    assert len(got) == size and pids == sorted(pids) and len(set(pids)) == size
    sigs = set()
    for i, (pid, meta) in enumerate(got):
        f = meta["AIGC"]
        assert list(f) == ORDER and f["ProduceID"] == f["PropagateID"] == pid and f["Label"] == "1"
        assert f["ReservedCode2"] == lab.kid and all(labels.allowed(v) for v in f.values())
        kind, kid, sig, index, path = _parts(f)
        assert (kind, f"ed25519:{kid}", index, len(_unb64(path))) == ("ed25519m", lab.kid, str(i), 16 * (size.bit_length() - 1))
        sigs.add(sig)
        assert labels.problem(meta, lab.public) is None and labels.verify(json.dumps(meta), lab.public)
    assert len(sigs) == 1


def test_the_format_is_the_documented_one(lab, batch):
    """A verifier written from label_batch's docstring alone reaches the root the producer signed."""
    def h(data):
        return hashlib.sha256(data).digest()[:16]

    def field(v):
        return len(v.encode()).to_bytes(4, "big") + v.encode()

    for f in batch:
        _, _, sig, index, path = _parts(f)
        i, sibs = int(index), _unb64(path)
        node = h(b"\x00AIGC-leaf;" + field(f["Label"]) + field(f["ContentProducer"]) + field(f["ProduceID"]) + i.to_bytes(4, "big"))
        for d in range(len(sibs) // 16):
            s = sibs[16 * d:16 * d + 16]
            node = h(b"\x01" + s + node) if i >> d & 1 else h(b"\x01" + node + s)
        lab.public.verify(_unb64(sig), b"AIGC-batch-root;v1;" + bytes([len(sibs) // 16]) + node)  # raises if not


@pytest.mark.parametrize(("field", "value"), [("Label", "2"), ("Label", "3"), ("ContentProducer", "someone-else"),
                                              ("ProduceID", "01a24802-e14d-7005-98d6-cc16854fb500")])
def test_a_changed_production_field_fails(lab, batch, field, value):
    for f in (batch[0], batch[7], batch[15]):
        assert "altered or forged" in _problem({**f, field: value}, lab)


def test_another_index_fails_and_labels_cannot_swap_their_signature_data(lab, batch):
    f = batch[5]
    for i in range(16):
        if i != 5:
            assert "altered or forged" in _problem(_with(f, index=str(i)), lab)
            assert "altered or forged" in _problem({**batch[i], "ReservedCode1": f["ReservedCode1"]}, lab)
    assert "altered or forged" in _problem(_with(f, path=_parts(batch[4])[4]), lab)  # the sibling's path
    for bad in ("05", "+5", "5a", "16", "99", "-1", "", "1e1"):
        assert "malformed batch signature" in _problem(_with(f, index=bad), lab), bad


def test_every_changed_byte_or_length_of_the_path_fails(lab, batch):
    f = batch[9]
    path = _unb64(_parts(f)[4])
    for k in range(len(path)):
        flipped = path[:k] + bytes([path[k] ^ 1]) + path[k + 1:]
        assert "altered or forged" in _problem(_with(f, path=_b64(flipped)), lab)
    assert "altered or forged" in _problem(_with(f, path=_b64(path[:-16]), index="1"), lab)  # a shorter tree
    assert "altered or forged" in _problem(_with(f, path=_b64(path + path[:16])), lab)  # a taller one
    for bad in (path[:-1], b"", path * 3):  # not whole hashes, none, deeper than allowed
        assert "malformed batch signature" in _problem(_with(f, path=_b64(bad)), lab)


def test_the_signature_and_the_encodings_cannot_change(lab, batch):
    f = batch[3]
    _, _, sig, _, path = _parts(f)
    raw = _unb64(sig)
    for k in (0, 31, 63):
        assert "altered or forged" in _problem(_with(f, sig=_b64(raw[:k] + bytes([raw[k] ^ 0x80]) + raw[k + 1:])), lab)
    assert "altered or forged" in _problem(_with(f, sig=_parts(lab._implicit_batch(lab.config, 16)[3][1]["AIGC"])[2]), lab)
    # the same bytes spelled differently: spare bits of the last character, padding, standard alphabet
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = alphabet[alphabet.index(sig[-1]) ^ 1]
    assert _unb64(sig[:-1] + spare) == raw  # the lax decoder reads the same signature
    for bad_sig in (sig[:-1] + spare, sig + "==", sig.replace("-", "+").replace("_", "/") if "-" in sig or "_" in sig else sig + "!"):
        assert "malformed batch signature" in _problem(_with(f, sig=bad_sig), lab), bad_sig
    assert "malformed batch signature" in _problem(_with(f, path=path + "="), lab)
    assert "malformed batch signature" in _problem({**f, "ReservedCode1": "ed25519m:" + _parts(f)[1] + ":" + sig}, lab)


def test_the_batch_signature_is_no_single_signature_and_back(lab, batch):
    _, kid, sig, _, _ = _parts(batch[0])
    assert "altered or forged" in _problem({**batch[0], "ReservedCode1": f"ed25519:{kid}:{sig}"}, lab)
    single = lab.implicit("evt-1")["AIGC"]
    one_sig = single["ReservedCode1"].rpartition(":")[2]
    assert "altered or forged" in _problem(_with(batch[0], sig=one_sig), lab)


def test_propagation_keeps_the_batch_signature_valid(lab, batch):
    for f in (batch[0], batch[15]):
        p = propagate(f, "weibo-cn", "wb-778899")
        assert p["ReservedCode1"] == f["ReservedCode1"] and labels.verify(p, lab.public)
        again = propagate(p, "douyin", "dy-1")
        assert labels.verify(again, lab.public) and labels.verify({**again, "ReservedCode2": "sha256:abc"}, lab.public)
        assert "altered or forged" in _problem({**again, "ProduceID": "evt-2"}, lab)


def test_another_key_is_named(lab, batch):
    other = Ed25519PrivateKey.generate().public_key()
    why = labels.problem(batch[2], other)
    assert "signed by another key" in why[1] and lab.kid in why[1] and "另一把密钥" in why[0]


def test_the_older_forms_still_verify(lab):
    single = lab.implicit("evt-7")["AIGC"]
    assert single["ReservedCode1"].startswith(lab.kid + ":") and labels.verify(single, lab.public)
    legacy = {**single, "ReservedCode1": ""}
    signed = ";".join(f"{k}={legacy[k]}" for k in ORDER if k != "ReservedCode1").encode()
    legacy["ReservedCode1"] = _b64(lab.key.sign(signed))
    assert labels.verify(legacy, lab.public) and not labels.verify({**legacy, "ProduceID": "evt-8"}, lab.public)


def test_cli_verify_reads_the_batch_form(tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_LABEL_KEY", str(tmp_path / "label.pem"))
    lab = Labeller()
    metas = [m for _, m in lab._implicit_batch(lab.config, 16)]
    run = CliRunner()
    (tmp_path / "h.txt").write_text("AIGC: " + json.dumps(metas[11]), encoding="utf-8")
    r = run.invoke(root, ["label", "verify", "--json", str(tmp_path / "h.txt")], catch_exceptions=False)
    assert r.exit_code == 0 and json.loads(r.stdout)["valid"], r.output
    assert json.loads(r.stdout)["signature_form"] == "batch"
    r = run.invoke(root, ["label", "verify", str(tmp_path / "h.txt")], catch_exceptions=False)
    assert r.exit_code == 0 and "批量签名 / batch signature" in " ".join(r.stdout.split())  # rich wraps lines
    (tmp_path / "bad.txt").write_text(json.dumps(_with(metas[11]["AIGC"], index="12")), encoding="utf-8")
    r = run.invoke(root, ["label", "verify", str(tmp_path / "bad.txt")])
    assert r.exit_code == 1 and "签名不符" in r.stdout and "altered or forged" in r.stdout
    (tmp_path / "bad.txt").write_text(json.dumps(_with(metas[11]["AIGC"], index="011")), encoding="utf-8")
    r = run.invoke(root, ["label", "verify", "--json", str(tmp_path / "bad.txt")])
    out = json.loads(r.stdout)
    assert r.exit_code == 1 and not out["valid"] and "批量签名格式不符" in out["problem"] and "index" in out["problem"]
