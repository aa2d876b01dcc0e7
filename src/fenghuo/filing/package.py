"""``fenghuo filing package SERVICE``: the filing attachments fenghuo holds, as files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

from fenghuo.checks.config import resolve_path
from fenghuo.checks.lexicon_file import read_lexicon
from fenghuo.checks.policy import Policy
from fenghuo.evaluation.store import RunStore, read_jsonl
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Provider, Service

DEFAULT_LEXICON = "pkg:shipped/lexicon.tsv"
ATTACHMENTS = {
    1: "安全自评估报告 / safety self-assessment report",
    2: "服务协议 / service agreement",
    3: "语料标注规则 / annotation rules",
    4: "拦截关键词列表 / intercept keyword list",
    5: "评估测试题集 / evaluation question set",
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _keywords(files: list[Path]) -> str:
    risk = Policy().risk_map()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["关键词 keyword", "类别 categories", "风险 risk (TC260-003 App. A)", "来源 source"])
    seen = set()
    for f in files:
        for e in read_lexicon(f, None, set(Policy().rules)):
            if e.word in seen:
                continue
            seen.add(e.word)
            cats = sorted(e.categories)
            w.writerow([e.word, ",".join(cats), ",".join(sorted({risk.get(c) or "" for c in cats} - {""})), Path(e.source).name])
    return out.getvalue()


def _questions(store: RunStore) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "prompt", "expectation", "risk", "topic", "source"])
    for it in read_jsonl(store.path / "items.jsonl"):
        w.writerow([it.get("id"), it.get("prompt"), it.get("expectation"), it.get("risk") or "", it.get("topic") or "", it.get("source") or ""])
    return out.getvalue()


def package(db: Database, actor: Actor, service_id: str, out_dir: str | Path, *, run_id: str | None = None,
            lexicons: list[str] | None = None, runs_base: Path | None = None) -> dict[str, Any]:
    """Write the attachments under ``out_dir/<service>/`` with a manifest; returns the manifest."""
    with db.reader() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_can_command(s, actor, svc)
        prov = s.get(Provider, svc.provider_id)
        attrs = dict(svc.attributes or {})
        facts = {"service": svc.id, "name": svc.name, "provider": prov.id, "provider_name": prov.name,
                 "provider_filing_number": getattr(prov, "filing_number", None), "filing_number": attrs.get("filing_number"),
                 "base_model_filing": attrs.get("base_model_filing"), "primary_model": attrs.get("primary_model"),
                 "grade": svc.grade, "grading": f"{svc.grading_table} {svc.grading_version}"}
    folder = Path(out_dir) / svc.id
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    missing: dict[str, str] = {}
    store = None
    if run_id:
        try:
            store = RunStore.open(run_id, runs_base)
        except FileNotFoundError as exc:
            raise NotFound(str(exc), str(exc), code="unknown_run") from None
    if store and (store.path / "self-assessment.docx").is_file():
        for name, suffix in (("self-assessment.docx", ".docx"), ("report.md", ".md"), ("report.json", ".json")):
            if (store.path / name).is_file():
                target = folder / f"附件1-安全自评估报告{suffix}"
                shutil.copyfile(store.path / name, target)
                files[target.name] = _sha(target)
    else:
        missing["附件1"] = "没有评估运行（--run RUN_ID，先 fenghuo eval run / eval report）/ no evaluation run given (--run)"
    missing["附件2"] = "服务协议由提供者提供 / the service agreement is the provider's document"
    missing["附件3"] = "标注规则由提供者提供 / the annotation rules are the provider's document"
    lex = [resolve_path(x, Path.cwd()) for x in (lexicons or [DEFAULT_LEXICON])]
    for p in lex:
        if not p.is_file():
            raise Invalid(f"词表不存在：{p}", f"no such lexicon file: {p}", field="lexicon")
    target = folder / "附件4-拦截关键词列表.csv"
    target.write_text(_keywords(lex), encoding="utf-8-sig")
    files[target.name] = _sha(target)
    if store and (store.path / "items.jsonl").is_file():
        target = folder / "附件5-评估测试题集.csv"
        target.write_text(_questions(store), encoding="utf-8-sig")
        files[target.name] = _sha(target)
    else:
        missing["附件5"] = "没有评估运行 / no evaluation run given (--run)"
    for key, label in (("filing_number", "服务备案号 / service filing number (CN-PO-12)"),
                       ("base_model_filing", "基础模型备案号 / base model filing number (CN-TC-12)")):
        if not facts[key]:
            missing[key] = f"登记中未写 {label} / not in the registration"
    manifest = {"service": facts, "generated_at": iso(db.clock.now()), "generated_by": actor.label, "run": run_id,
                "attachments": ATTACHMENTS, "files": files, "missing": missing, "folder": str(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    with db.transaction() as s:
        ledger.append(s, db.clock, "filing.package", f"service:{svc.id}", actor.label,
                      {"service": svc.id, "files": files, "missing": sorted(missing), "run": run_id})
    return manifest
