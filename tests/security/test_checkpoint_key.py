"""Issue 14, item 5: `ledger verify --against cp.json` without `--key` trusted the key inside
the checkpoint, so a re-hashed ledger with a checkpoint signed by any key passed. Now the
deployment's own public key is pinned by default; another key is named and refused (exit 1)
unless given with --key or accepted explicitly with --trust-checkpoint-key."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fenghuo.cli import root
from fenghuo.ledger.chain import GENESIS, entry_hash
from fenghuo.ledger.checkpoint import key_id, sign
from fenghuo.platform.keys import raw_public


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(root, ["--db", str(tmp_path / "fh.db"), *args], catch_exceptions=False)
    return run


@pytest.fixture
def exported(cli, tmp_path):
    from pathlib import Path

    registry = Path(__file__).resolve().parents[2] / "src" / "fenghuo" / "demo" / "registry.yaml"
    assert cli("service", "register", str(registry)).exit_code == 0
    assert cli("pause", "zhiyi-chat", "--reason", "complaints").exit_code == 0
    out = tmp_path / "ledger.jsonl"
    assert cli("ledger", "export", "-o", str(out)).exit_code == 0
    return out


def flat(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _rehash(path, forged_seq: int) -> tuple[int, str]:
    """Rewrite one entry and re-hash the whole chain after it, as an attacker with the database would."""
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    prev = GENESIS
    for e in entries:
        if e["seq"] == forged_seq:
            e["actor"] = "nobody"
        e["prev_hash"] = prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
    return entries[-1]["seq"], prev


def test_a_checkpoint_signed_by_a_stranger_is_refused_by_default(cli, exported, tmp_path):
    seq, head = _rehash(exported, forged_seq=3)
    stranger = Ed25519PrivateKey.generate()
    cp = sign(seq, head, "2026-01-01T00:00:00.000000Z", key=stranger)
    cp_file = tmp_path / "forged-cp.json"
    cp_file.write_text(cp.to_json())
    cli("ledger", "checkpoint")  # the deployment's own key exists on this machine
    r = cli("ledger", "verify", "--file", str(exported), "--against", str(cp_file))
    assert r.exit_code == 1
    assert cp.key_id in flat(r) and "not the pinned key" in flat(r)
    as_json = json.loads(cli("ledger", "verify", "--file", str(exported), "--against", str(cp_file), "--json").output)
    assert as_json["problem"] == "untrusted_key" and not as_json["ok"]
    # only an explicit choice accepts it, and then with a warning naming the key
    r = cli("ledger", "verify", "--file", str(exported), "--against", str(cp_file), "--trust-checkpoint-key")
    assert r.exit_code == 0 and "trusted the checkpoint's own key" in flat(r) and cp.key_id in flat(r)
    # pinning that key on purpose (another deployment's) is what --key is for
    pub = tmp_path / "stranger.pub"
    pub.write_text(base64.b64encode(raw_public(stranger.public_key())).decode())
    assert cli("ledger", "verify", "--file", str(exported), "--against", str(cp_file), "--key", str(pub)).exit_code == 0


def test_the_deployments_own_checkpoint_verifies_without_key_and_with_its_public_key(cli, exported, tmp_path):
    cp_file = tmp_path / "cp.json"
    assert cli("ledger", "checkpoint", "-o", str(cp_file)).exit_code == 0
    assert cli("ledger", "verify", "--against", str(cp_file)).exit_code == 0
    pub = tmp_path / "deployment.pub"
    printed = cli("ledger", "public-key").output.strip()
    pub.write_text(printed)
    assert key_id(base64.b64decode(printed)) == json.loads(cp_file.read_text())["key_id"]
    r = cli("ledger", "verify", "--against", str(cp_file), "--key", str(pub))
    assert r.exit_code == 0 and "✓" in flat(r)
    # a pinned key that is not the signer's fails, naming both
    other = tmp_path / "other.pub"
    other.write_text(base64.b64encode(raw_public(Ed25519PrivateKey.generate().public_key())).decode())
    r = cli("ledger", "verify", "--against", str(cp_file), "--key", str(other))
    assert r.exit_code == 1 and "not the pinned key" in flat(r)


def test_without_any_key_on_this_machine_verification_says_so(exported, tmp_path, monkeypatch):
    seq, head = _rehash(exported, forged_seq=2)
    cp = sign(seq, head, "2026-01-01T00:00:00.000000Z", key=Ed25519PrivateKey.generate())
    cp_file = tmp_path / "cp.json"
    cp_file.write_text(cp.to_json())
    monkeypatch.setenv("FENGHUO_LEDGER_KEY", str(tmp_path / "no-such-key.pem"))
    r = CliRunner().invoke(root, ["ledger", "verify", "--file", str(exported), "--against", str(cp_file)])
    assert r.exit_code == 1 and "no pinned key" in flat(r)
    assert not (tmp_path / "no-such-key.pem").exists()  # verifying creates no key


def test_a_garbage_key_file_is_one_clear_line(exported, tmp_path, cli):
    cp_file = tmp_path / "cp.json"
    cli("ledger", "checkpoint", "-o", str(cp_file))
    bad = tmp_path / "bad.pub"
    bad.write_text("not base64 at all!")
    r = cli("ledger", "verify", "--against", str(cp_file), "--key", str(bad))
    assert r.exit_code != 0 and "not a usable Ed25519 public key" in flat(r)
