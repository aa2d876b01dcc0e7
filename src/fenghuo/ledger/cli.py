"""`fenghuo ledger verify|export|checkpoint`."""

from __future__ import annotations

import sys

import click

from fenghuo.platform.cli_support import client, console, err_console, print_json, refusals


def _lines():  # an iterator of JSONL lines
    from fenghuo.ledger import service as ledger

    return client().lines(lambda db, actor: ledger.export_lines(db), "/api/v1/ledger/export")


@click.group("ledger")
def ledger_group() -> None:
    """The tamper-evident ledger (透明度) / 防篡改账本。"""


@ledger_group.command("verify")
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Verify an exported JSONL file alone, without the database / 校验导出文件")
@click.option("--against", type=click.Path(dir_okay=False), help="A kept checkpoint the ledger must still extend / 对照检查点")
@click.option("--key", type=click.Path(dir_okay=False),
              help="Another deployment's public key (`fenghuo ledger public-key`); default: this deployment's own key / 可信公钥")
@click.option("--trust-checkpoint-key", is_flag=True,
              help="Accept the key inside the checkpoint instead of a pinned one (proves nothing against its signer) / 信任检查点自带的密钥")
@click.option("--json", "as_json", is_flag=True)
@refusals
def verify(file: str | None, against: str | None, key: str | None, trust_checkpoint_key: bool, as_json: bool) -> None:
    """Walk the hash chain and name the first entry altered, removed or reordered; with
    --against, also prove the ledger still extends a signed checkpoint, signed by the pinned key
    (this deployment's own unless --key names another). Exit 1 on failure.

    逐条校验哈希链，指出第一条被修改、删除或调换的条目。"""
    from fenghuo.ledger import service as ledger
    from fenghuo.ledger.checkpoint import Checkpoint, read_public_key, verify_against

    trusted = read_public_key(key) if key else None
    if against:
        cp = Checkpoint.load(against)
        if file:
            result = verify_against(ledger.read_export(file), cp, trusted, trust_checkpoint_key=trust_checkpoint_key)
        else:
            import json

            result = verify_against((json.loads(line) for line in _lines()), cp, trusted, trust_checkpoint_key=trust_checkpoint_key)
        out = {"ok": result.ok, "message": f"{result.zh} / {result.en}", "problem": result.problem, "key_id": cp.key_id}
        if trust_checkpoint_key and result.ok:
            out["warning"] = (f"信任了检查点自带的密钥 {cp.key_id}：签署者本人可以伪造 / trusted the checkpoint's own key {cp.key_id}: "
                              "whoever signed it could have forged it")
            err_console.print(f"[yellow]! {out['warning']}[/]")
    elif file:
        st = ledger.verify_file(file)
        out = {"ok": st.ok, "entries": st.count, "head_seq": st.head_seq, "redacted": st.redacted, "unproven": st.unproven}
        if st.problem:
            zh, en = st.problem.describe()
            out["problem"] = {"seq": st.problem.seq, "kind": st.problem.kind, "message": f"{zh} / {en}"}
    else:
        out = client().call(lambda db, actor: ledger.verify_report(db), "GET", "/api/v1/ledger/verify")
    if as_json:
        print_json(out)
    elif out["ok"]:
        summary = out.get("message") or f"{out['entries']} entries, head {out['head_seq']}"
        if out.get("redacted"):
            summary += f" ({out['redacted']} outside your scope shown as hashes / 范围外条目仅含哈希"
            summary += f"; {out['unproven']} of them older format, link only)" if out.get("unproven") else ")"
        console.print(f"[green]✓ 账本完整 / ledger verified[/] {summary}")
    else:
        msg = out.get("message") or out["problem"]["message"]
        err_console.print(f"[bold red]✗ 账本校验失败 / ledger verification failed:[/] {msg}")
    if not out["ok"]:
        sys.exit(1)


@ledger_group.command("public-key")
@refusals
def public_key() -> None:
    """Print this deployment's checkpoint public key (raw, base64) for auditors to pin with
    `ledger verify --key` / 输出本部署的检查点公钥，供审计方固定。"""
    import base64

    from fenghuo.ledger.checkpoint import load_or_create_key
    from fenghuo.platform.keys import raw_public

    click.echo(base64.b64encode(raw_public(load_or_create_key().public_key())).decode())


@ledger_group.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: standard output)")
@refusals
def export(output: str | None) -> None:
    """Write the ledger as JSONL for an auditor / 导出账本（JSONL）。"""
    from fenghuo.platform.files import write_atomic

    if output:
        n = write_atomic(output, _lines())
        err_console.print(f"[green]✓[/] {n} entries → {output}")
    else:
        for line in _lines():
            sys.stdout.write(line)


@ledger_group.command("checkpoint")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the signed checkpoint to this file")
@refusals
def checkpoint(output: str | None) -> None:
    """Sign the current head with the deployment's Ed25519 key / 签发检查点。"""
    from dataclasses import asdict

    from fenghuo.ledger import service as ledger
    from fenghuo.ledger.checkpoint import Checkpoint
    from fenghuo.platform.files import write_atomic

    cp = Checkpoint(**client().call(lambda db, actor: asdict(ledger.checkpoint(db)), "POST", "/api/v1/ledger/checkpoint"))
    if output:
        write_atomic(output, [cp.to_json()])
        err_console.print(f"[green]✓[/] checkpoint at entry {cp.seq} → {output}")
    else:
        print_json(cp.__dict__)


def register(root: click.Group) -> None:
    root.add_command(ledger_group)
