"""`fenghuo keys export` (the public halves of the label and ledger signing keys),
`fenghuo label verify FILE|-` (an AIGC label from a response body, a stream or a header) and
`fenghuo label propagate FILE|-` (a propagation platform's elements written into it), and
`fenghuo label waive | waivers` (content supplied without the explicit label, CN-LB-18).

The private keys never leave their files; what a user hands to a regulator, an auditor or a
platform that checks labels is the public PEM. The ledger key lives below the guard
(``ledger.checkpoint``), so this module, above both, names both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape

from fenghuo.guard import label_propagate, labels
from fenghuo.platform import keys
from fenghuo.platform.cli_support import console, print_json, refusals
from fenghuo.platform.errors import Invalid, NotFound


def _public_of(private_path: Path) -> Ed25519PublicKey | None:
    """The public half of an existing private key file (never creates one)."""
    if not private_path.exists():
        return None
    return keys.load_or_create(private_path).public_key()


def _pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _key_paths() -> dict[str, Path]:
    from fenghuo.ledger.checkpoint import key_path as ledger_key_path

    return {"label": labels.key_path(), "ledger": ledger_key_path()}


@click.group("keys")
def keys_group() -> None:
    """Signing keys: AIGC labels and ledger checkpoints / 签名密钥。"""


@keys_group.command("export")
@click.option("--which", type=click.Choice(["label", "ledger", "both"]), default="both", show_default=True)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="写入目录（label-public.pem, ledger-public.pem）/ write PEM files into this directory")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@refusals
def export_cmd(which: str, out_dir: Path | None, as_json: bool) -> None:
    """Print the public keys (PEM) that verify labels and checkpoints / 导出公钥（PEM）。

    The label key verifies the AIGC metadata this deployment's guards write (GB 45438); the
    ledger key verifies its signed checkpoints. A key is not created by exporting it.
    """
    chosen = ["label", "ledger"] if which == "both" else [which]
    found: dict[str, dict] = {}
    missing: list[dict] = []
    for name, path in _key_paths().items():
        if name not in chosen:
            continue
        public = _public_of(path)
        if public is None and which == "both":
            missing.append({"key": name, "path": str(path)})
            continue
        if public is None:
            raise NotFound(f"{path} 处没有{'标识' if name == 'label' else '账本'}签名密钥（首次使用时才生成）",
                           f"no {name} signing key at {path} yet (it is created on first use); nothing to export",
                           code="no_key", key=name, path=str(path))
        kid = f"ed25519:{keys.key_id(keys.raw_public(public))}"
        found[name] = {"key_id": kid, "private_key_file": str(path), "pem": _pem(public)}
    if not found:
        raise NotFound("此处还没有签名密钥（首次使用时才生成）",
                       f"no signing keys here yet ({', '.join(m['path'] for m in missing)}; created on first use)",
                       code="no_key", missing=missing)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, v in found.items():
            target = out_dir / f"{name}-public.pem"
            target.write_text(v["pem"], encoding="ascii")
            v["file"] = str(target)
    if as_json:
        print_json({**found, **({"missing": missing} if missing else {})})
        return
    for m in missing:
        click.echo(f"注意 / note: 没有{'标识' if m['key'] == 'label' else '账本'}密钥 / no {m['key']} key at {m['path']} "
                   "(created on first use)", err=True)
    for name, v in found.items():
        if out_dir:
            console.print(f"{name}: {v['key_id']} → {v['file']}")
        else:
            click.echo(f"# {name} public key {v['key_id']} ({'AIGC 标识 / labels' if name == 'label' else '账本检查点 / ledger checkpoints'})")
            click.echo(v["pem"], nl=False)


@click.group("label")
def label_group() -> None:
    """AIGC labels (GB 45438) / 内容标识。"""


def find_label(text: str) -> tuple[object | None, str]:
    """The label in what a user pasted, and where it was found.

    Accepts a chat completion body (its ``"AIGC"`` member), a stream (the chunk that carries
    ``"AIGC"``), the ``AIGC`` header value (``{"AIGC": {...}}``, with or without ``AIGC:`` in
    front) or the bare seven-field object."""
    stripped = text.strip()
    if stripped[:5].lower() == "aigc:":
        stripped = stripped[5:].strip()
    candidates: list[tuple[str, str]] = [(stripped, "document")]
    if "data:" in stripped:  # a server-sent event stream
        candidates += [(line[5:].strip(), "stream chunk") for line in stripped.splitlines() if line.startswith("data:")]
    for raw, where in candidates:
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("AIGC"), dict):
            kind = "header value {\"AIGC\": …}" if len(doc) == 1 else f"{doc.get('object', 'response')} body"
            return doc["AIGC"], kind if where == "document" else where
        if tuple(doc) == labels.FIELDS:
            return doc, "label object"
    return None, ""


def _explicit(text: str) -> bool | None:
    """Whether a chat completion body's text carries an explicit label (None: not a body)."""
    try:
        doc = json.loads(text)
        contents = [c["message"]["content"] for c in doc["choices"]]
    except (ValueError, KeyError, TypeError):
        return None
    return any(isinstance(c, str) and "【" in c and "】" in c for c in contents)


_FORMS = {"ed25519m": ("batch", "批量签名"), "ed25519": ("single", "单独签名")}


def _form(meta: object) -> tuple[str, str] | None:
    """Which of the three ReservedCode1 forms the label uses (``guard.labels``): a batch
    signature over a Merkle root, a single signature, or the legacy bare signature."""
    rc1 = meta.get("ReservedCode1") if isinstance(meta, dict) else None
    if not isinstance(rc1, str) or not rc1:
        return None
    return _FORMS.get(rc1.partition(":")[0], ("legacy", "旧格式签名"))


@label_group.command("verify")
@click.argument("source", metavar="FILE|-")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
              help="公钥 PEM（fenghuo keys export）；默认本部署的标识密钥 / public key PEM (default: this deployment's label key)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@refusals
def verify_cmd(source: str, key_file: Path | None, as_json: bool) -> None:
    """Check an AIGC label's signature / 校验内容标识签名。

    FILE (or - for stdin) holds a response body, a stream, the AIGC header value or the label
    object itself. Exit 0 if the label verifies, 1 if not. ReservedCode1 may be a batch
    signature (ed25519m:…, the gateway's), a single one (ed25519:…) or the legacy form.
    """
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"无法读取 {source}：{exc}", f"cannot read {source}: {exc}", code="unreadable") from None
    if key_file:
        try:
            public = serialization.load_pem_public_key(key_file.read_bytes())
        except ValueError:
            public = None
        if not isinstance(public, Ed25519PublicKey):
            raise Invalid(f"{key_file} 不是 Ed25519 公钥 PEM", f"{key_file} is not an Ed25519 public key PEM", code="bad_key")
    else:
        public = _public_of(labels.key_path())
        if public is None:
            raise NotFound(f"此处没有标识密钥（{labels.key_path()}），请用 --key 指定公钥",
                           f"no label key here ({labels.key_path()}): pass --key PUBLIC.pem (fenghuo keys export)",
                           code="no_key")
    meta, where = find_label(text)
    if meta is None:
        raise Invalid("输入中没有 AIGC 标识", "no AIGC label found in the input (a response body, a stream, the AIGC header "
                      "value or the label object)", code="no_label")
    why = labels.problem(meta, public)
    kid = f"ed25519:{keys.key_id(keys.raw_public(public))}"
    explicit = _explicit(text)
    form = _form(meta)
    result = {"valid": why is None, "found_in": where, "key_id": kid, "label": meta,
              **({"signature_form": form[0]} if form else {}),
              **({"problem": f"{why[0]} / {why[1]}"} if why else {}),
              **({"explicit_label": explicit} if explicit is not None else {})}
    if as_json:
        print_json(result)
    elif why is None:
        console.print(f"[green]✓[/] 标识有效 / label valid ({escape(where)}): producer {escape(str(meta.get('ContentProducer')))}, "
                      f"ProduceID {escape(str(meta.get('ProduceID')))}, key {kid}"
                      + (f", {form[1]} / {form[0]} signature" if form else ""))
    else:
        console.print(f"[red]✗[/] 标识无效 / label not valid ({escape(where)}): {escape(why[0])} / {escape(why[1])}")
    if explicit is False and not as_json:
        console.print("[yellow]注意 / note[/]: 正文中没有显式标识 / the text carries no explicit label")
    if why is not None:
        sys.exit(1)


def _read(source: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"无法读取 {source}：{exc}", f"cannot read {source}: {exc}", code="unreadable") from None


def _with_notice(doc: dict, label: str) -> int:
    """Add the visible notice for ``label`` to each answer text of a completion body that has
    no explicit label yet (CN-LB-10/16); how many texts got one."""
    added = 0
    for choice in doc.get("choices") or []:
        holder, key = (choice.get("message"), "content") if isinstance(choice.get("message"), dict) else (choice, "text")
        text = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(text, str) and not ("【" in text and "】" in text):
            holder[key] = f"{text}\n【{label_propagate.notice(label)}】"
            added += 1
    return added


@label_group.command("propagate")
@click.argument("source", metavar="FILE|-")
@click.option("--platform", required=True, help="传播平台名称或编码（ContentPropagator）/ the platform's name or code")
@click.option("--id", "propagate_id", help="传播内容编号（PropagateID），默认随机 / the platform's id for the content (default: random)")
@click.option("--label", type=click.Choice(["1", "2", "3"]),
              help="内容没有生成者标识时：2 用户声明、3 检测到痕迹 / for content without a producer's label: 2 user declares, 3 traces found")
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="写入文件（默认标准输出）/ write here (default stdout)")
@refusals
def propagate_cmd(source: str, platform: str, propagate_id: str | None, label: str | None, out_file: Path | None) -> None:
    """Write a propagation platform's elements into an AIGC label / 写入传播要素。

    FILE (or - for stdin) is a response body, a stream, the AIGC header value or the label
    object. ContentPropagator, PropagateID and ReservedCode2 are the platform's; the producer's
    elements and signature stay as they are, so `fenghuo label verify` still passes. A body
    without a label gets one with --label 2 or 3 and no producer elements. Answer texts without
    an explicit label get the notice for the Label value (标识办法第六条).
    """
    text = _read(source)
    stripped = text.strip()
    header = stripped[:5].lower() == "aigc:"
    if header:
        stripped = stripped[5:].strip()
    try:
        doc = json.loads(stripped)
    except ValueError:
        doc = None
    lines: list[str] = []
    at: int | None = None
    if isinstance(doc, dict):
        container = doc if isinstance(doc.get("AIGC"), dict) or "choices" in doc else None
        meta = doc if container is None and tuple(doc) == labels.FIELDS else (doc.get("AIGC") if container is not None else None)
        if container is None and meta is None:
            raise Invalid("输入中没有 AIGC 标识，也不是模型回答", "no AIGC label in the input, and it is not a completion body",
                          code="no_label")
    elif "data:" in stripped:  # a server-sent event stream: rewrite the chunk that carries the label
        lines = text.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("data:") and '"AIGC"' in line:
                try:
                    chunk = json.loads(line[5:])
                except ValueError:
                    continue
                if isinstance(chunk, dict) and isinstance(chunk.get("AIGC"), dict):
                    doc, at, container, meta = chunk, i, chunk, chunk["AIGC"]
                    break
        if at is None:
            raise Invalid("流中没有带 AIGC 标识的数据块", "no chunk of the stream carries an AIGC label", code="no_label")
    else:
        raise Invalid("输入不是 JSON 文档或事件流", "the input is neither a JSON document nor an event stream", code="no_label")
    try:
        new = label_propagate.propagate(meta if isinstance(meta, dict) else None, platform, propagate_id, label)
    except label_propagate.PropagationRefused as exc:
        raise Invalid(exc.zh, exc.en, code="propagation_refused") from None
    if container is None:
        out = json.dumps(new, ensure_ascii=False)
    else:
        container["AIGC"] = new
        noticed = _with_notice(container, new["Label"])
        out = json.dumps(container, ensure_ascii=False)
    if at is not None:
        lines[at] = f"data: {out}\n"
        out = "".join(lines)
    elif header:
        out = f"AIGC: {out}"
    if out_file:
        out_file.write_text(out if out.endswith("\n") else out + "\n", encoding="utf-8")
    else:
        click.echo(out.rstrip("\n"))
    kept = "生成者签名保留 / producer's signature kept" if new["ReservedCode1"] else "无生成者签名 / no producer signature"
    extra = f"; 显式标识 / notices added: {noticed}" if container is not None else ""
    click.echo(f"传播要素已写入 / propagation elements written: Label {new['Label']}, {new['ContentPropagator']} "
               f"{new['PropagateID']}; {kept}{extra}", err=True)


@label_group.command("waive")
@click.argument("service_id")
@click.option("--user", default="", help="提出请求的用户 / the end user who asked for unlabelled content")
@click.option("--request", "request_", default="", help="用户的请求（内容或编号）/ the user's request (its text or reference)")
@click.option("--agreement", default="",
              help="用户协议中说明其标识义务的条款 / the user agreement clause stating the user's labelling duty (e.g. 'ToS v3 §7.2')")
@click.option("--recipient", default="", help="接收方 / who receives the unlabelled content")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@refusals
def waive_cmd(service_id: str, user: str, request_: str, agreement: str, recipient: str, note: str, as_json: bool) -> None:
    """Record a supply without the explicit label (CN-LB-18) / 登记免显式标识（须有请求、协议、接收方）。"""
    from fenghuo.guard import label_waivers
    from fenghuo.platform.cli_support import client

    body = {"user": user, "request": request_, "agreement": agreement, "recipient": recipient, "note": note}
    label_waivers.validate(body)  # the same refusal locally and remotely, before anything is sent
    w = client().call(lambda db, a: label_waivers.record(db, a, service_id, **body), "POST",
                      f"/api/v1/services/{service_id}/label-waivers", json=body)
    if as_json:
        return print_json(w)
    console.print(f"[green]✓[/] 免标识记录 / label waiver {w['id']}: {escape(w['service'])}, user {escape(w['user'])} → "
                  f"{escape(w['recipient'])} ({escape(w['agreement'])}); 用 / use: fenghuo gateway --no-label --label-waiver {w['id']}"
                  f" (SDK: Guard(..., labels=False, label_waiver=\"{w['id']}\"))")


@label_group.command("waivers")
@click.argument("service_id", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="每页条数 / waivers per page")
@click.option("--after", help="从该编号之后开始（上一页最后一条）/ start after this id (the last of the previous page)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@refusals
def waivers_cmd(service_id: str | None, limit: int, after: str | None, as_json: bool) -> None:
    """The unlabelled-content log (CN-LB-18), oldest first, a page at a time / 免标识记录。"""
    from rich.table import Table

    from fenghuo.guard import label_waivers
    from fenghuo.platform.cli_support import client

    path = f"/api/v1/services/{service_id}/label-waivers" if service_id else "/api/v1/label-waivers"
    rows = client().call(lambda db, a: label_waivers.page(db, a, service_id, after=after, limit=limit)[0], "GET", path,
                         params={"limit": limit, **({"after": after} if after else {})})
    if as_json:
        return print_json(rows)
    t = Table(title="免标识记录 / Label waivers (CN-LB-18)")
    for col in ("id", "recorded 时间", "service 服务", "user 用户", "request 请求", "agreement 协议", "recipient 接收方"):
        t.add_column(col, overflow="fold")
    for w in rows:
        t.add_row(w["id"], w["recorded_at"], w["service"], escape(w["user"]), escape(w["request"]), escape(w["agreement"]),
                  escape(w["recipient"]))
    console.print(t)
    if len(rows) == limit:
        console.print(f"下一页 / next page: --after {rows[-1]['id']}")


def register(root: click.Group) -> None:
    root.add_command(keys_group)
    root.add_command(label_group)
