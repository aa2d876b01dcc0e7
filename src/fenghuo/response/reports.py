"""Incident reports — initial, update, summary — with the eight items of row CN-IR-07, as JSON,
Markdown and DOCX, written atomically; submitting one records when, by whom and to whom, and
stops the clocks it answers.

Item 1 (who) is filled from the registry. Item 2 (CN-IR-07 (2)) has its facts from the incident
and timeline — discovery time, place (the service's jurisdiction unless ``place`` says more),
level, measures taken (commands and plan steps on the timeline) — and three parts only a person
can state: the incident ``type``, the ``harm`` caused so far, and the ``measures`` taken with
their effect; until they are given item 2 is "to be supplemented" and the report incomplete.
Items 3–8 come from the people handling it. An initial report may carry only items 1–2
(CN-IR-08); a summary needs the handling to have ended and the cause, handling (应对处置), harm,
accountability (责任追究), rectification and lessons stated (CN-IR-09).

Every narrative field given lands in the report: a field that belongs only to the summary is
refused in an initial or update report rather than dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.paths import data_dir
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Provider, Service
from fenghuo.response import deadlines, incidents
from fenghuo.response import incident_grades as grades
from fenghuo.response import report_clocks as clocks
from fenghuo.response.models import Incident, Report

KINDS = ("initial", "update", "summary")
TODO = "待补充（CN-IR-08：先报基本情况，后续补报）/ to be supplemented (CN-IR-08: basic facts first, details follow)"
ITEMS = [  # (n, narrative key, zh, en)
    (1, None, "单位名称和设施、系统、平台的基本情况", "Unit name and basic facts of the facility, system or platform"),
    (2, None, "事件发现或发生时间、地点、类型、级别、已造成的影响和危害，已采取的措施及效果",
     "Discovery/occurrence time, place, type, level, impact and harm so far, measures taken and their effect"),
    (3, "trend", "事态发展趋势及可能进一步造成的影响和危害", "Trend and possible further impact and harm"),
    (4, "cause", "初步判定的事件原因", "Preliminary cause"),
    (5, "leads", "已掌握的线索（可能的攻击者、攻击路径、存在的漏洞等）", "Leads for investigation (possible attacker, path, vulnerabilities)"),
    (6, "planned", "拟进一步采取的应对措施以及需要支援的事项", "Further measures planned and support requested"),
    (7, "scene", "事件现场保护情况", "Protection of the scene (evidence preserved)"),
    (8, "other", "其他应当报告的情况", "Other matters to report"),
]
ITEM2_KEYS = {"type": "事件类型 type", "place": "地点 place", "harm": "已造成的影响和危害 harm so far",
              "measures": "已采取的措施及效果 measures taken and their effect"}
ITEM2_REQUIRED = ("type", "harm", "measures")
# INC Art.8 (CN-IR-09): 事件原因、应对处置、危害、责任追究、整改、教训, in that order
SUMMARY_KEYS = {"cause": "事件原因 cause", "handling": "应对处置 handling", "harm": "危害 harm",
                "accountability": "责任追究 accountability", "rectification": "整改 rectification", "lessons": "教训 lessons"}
SUMMARY_ONLY = set(SUMMARY_KEYS) - {k for _, k, _, _ in ITEMS if k} - set(ITEM2_KEYS)
NARRATIVE_KEYS = {k for _, k, _, _ in ITEMS if k} | set(SUMMARY_KEYS) | set(ITEM2_KEYS)


def _facts(s, inc: Incident) -> str:
    """The service as it stood when the incident opened (its snapshot, issue 14); incidents
    opened before snapshots existed read the registry as it is now."""
    snap = inc.service_snapshot
    if snap is None:
        svc = s.get(Service, inc.service_id)
        prov, jur = s.get(Provider, svc.provider_id), s.get(Jurisdiction, svc.jurisdiction_id)
        snap = {"id": svc.id, "name": svc.name, "provider": prov.id, "provider_name": prov.name, "jurisdiction_name": jur.name,
                "jurisdiction_path": svc.jurisdiction_path, "attributes": svc.attributes,
                "grade": {"grade": svc.grade, "table": svc.grading_table, "version": svc.grading_version}}
    a, g = snap["attributes"], snap["grade"]
    return (f"提供者 / provider: {snap['provider_name']} ({snap['provider']}); 服务 / service: {snap['name']} ({snap['id']}); "
            f"辖区 / jurisdiction: {snap['jurisdiction_name']} ({snap['jurisdiction_path']}); 领域 / sector: {a.get('sector')}; "
            f"功能 / function: {a.get('function')}; 预期用户 / reach: {a.get('reach')}; "
            f"风险分级 / risk grade: {g['grade']} ({g['table']} {g['version']}); "
            f"主模型 / primary model: {a.get('primary_model') or '-'}; 备份模型 / backup model: {a.get('backup_model') or '-'}")


def _what_happened(s, inc: Incident, view: dict[str, Any], narrative: dict[str, str]) -> tuple[str, list[str]]:
    """Item 2 and the parts of it still missing (CN-IR-07 (2))."""
    svc = s.get(Service, inc.service_id)
    jur = s.get(Jurisdiction, svc.jurisdiction_id)
    missing = [ITEM2_KEYS[k] for k in ITEM2_REQUIRED if k not in narrative]
    place = narrative.get("place") or f"{jur.name} ({svc.jurisdiction_path})"
    measures = [t for t in view["timeline"] if t["kind"] in ("command", "order", "remediation", "verification", "duty")]
    lines = [f"发现时间 / detected at {view['detected_at']}; 开启 / opened at {view['opened_at']} by {view['opened_by']} ({view['source']})",
             f"地点 / place: {place}",
             f"类型 / type: {narrative.get('type', TODO)}" + (f" (标记 / flags: {', '.join(view['flags'])})" if view["flags"] else ""),
             f"级别 / grade: {view['grade_label']}; 依据 / grading inputs: {json.dumps(view['grade_inputs'], ensure_ascii=False)}",
             f"已造成的影响和危害 / impact and harm so far: {narrative.get('harm', TODO)}",
             f"已采取的措施及效果 / measures taken and their effect: {narrative.get('measures', TODO)}"]
    if measures:
        lines.append("记录在案的措施 / measures on record:")
        lines += [f"- {t['at']} {t['kind']} {t['ref']}: {t['note']}" for t in measures]
    lines.append("时间线 / timeline:")
    lines += [f"- {t['at']} {t['kind']} {t['ref']}: {t['note']}" for t in view["timeline"]]
    return "\n".join(lines), missing


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _require_provider_side(s, actor: Actor, inc: Incident) -> Service:
    svc = s.get(Service, inc.service_id)
    scope.require_can_command(s, actor, svc)
    if actor.role not in (Role.operator, Role.admin):
        raise Forbidden("报告由服务提供者编写和报送", "reports are written and submitted by the provider (operator or admin)")
    return svc


def generate(db: Database, actor: Actor, incident_id: str, kind: str, narrative: dict[str, str] | None = None,
             out_dir: Path | None = None) -> dict[str, Any]:
    """Build a report, write JSON/Markdown/DOCX atomically, record it. Returns its JSON content."""
    from fenghuo.response.report_render import render_docx, render_markdown

    if kind not in KINDS:
        raise Invalid(f"报告类型必须是 {'/'.join(KINDS)}", f"report kind must be one of {', '.join(KINDS)}", field="kind")
    narrative = {k: str(v).strip() for k, v in (narrative or {}).items() if str(v or "").strip()}
    unknown = sorted(set(narrative) - NARRATIVE_KEYS)
    if unknown:
        raise Invalid(f"未知报告字段：{', '.join(unknown)}（可用：{', '.join(sorted(NARRATIVE_KEYS))}）",
                      f"unknown report field(s): {', '.join(unknown)} (known: {', '.join(sorted(NARRATIVE_KEYS))})", field="narrative")
    with db.transaction() as s:
        s.info["now"] = db.clock.now()
        inc = s.get(Incident, incident_id)
        if inc is None:
            raise NotFound(f"未知事件 {incident_id}", f"unknown incident {incident_id}", code="unknown_incident")
        _require_provider_side(s, actor, inc)
        if kind == "summary":
            if inc.status != "ended":
                raise Conflict("总结报告须在处置结束后编写：先 fenghuo incident end", "a summary report follows the end of handling: run fenghuo incident end first",
                               code="not_ended")
            missing = [v for k, v in SUMMARY_KEYS.items() if k not in narrative]
            if missing:
                raise Invalid(f"总结报告缺少：{', '.join(missing)}（CN-IR-09）", f"the summary report is missing: {', '.join(missing)} (CN-IR-09)",
                              field="narrative", missing=missing)
        if kind != "summary" and set(narrative) & SUMMARY_ONLY:
            extra = sorted(set(narrative) & SUMMARY_ONLY)
            raise Invalid(f"{', '.join(extra)} 属于总结报告（CN-IR-09），不在{kind}报告中", f"{', '.join(extra)} belong(s) to the summary report "
                          f"(CN-IR-09), not to an {kind} report", field="narrative")
        if kind == "update" and not narrative:
            raise Invalid("续报需要新的情况（--field 键=值）", "an update report needs new information (--field key=value)", field="narrative")
        view = incidents.view(s, inc)
        head_seq, head_hash = ledger.head(s)
        number = s.execute(select(func.count()).select_from(Report).where(Report.incident_id == inc.id, Report.kind == kind)).scalar_one() + 1
        rid = f"{inc.id}-{kind}-{number}"
        prof = deadlines.get(inc.profile)
        items, item2_missing = [], []
        for n, key, zh, en in ITEMS:
            if n == 1:
                text = _facts(s, inc)
            elif n == 2:
                text, item2_missing = _what_happened(s, inc, view, narrative)
            elif n == 7 and key not in narrative:
                text = f"账本已保全至 seq {head_seq}，头哈希 {head_hash} / ledger preserved up to seq {head_seq}, head hash {head_hash}"
            else:
                text = narrative.get(key, TODO)
            filled = not item2_missing if n == 2 else text != TODO
            items.append({"n": n, "zh": zh, "en": en, "text": text, "filled": filled, **({"missing": item2_missing} if n == 2 else {})})
        content = {
            "report": rid, "incident": inc.id, "kind": kind, "number": number, "title": inc.title,
            "grade": inc.grade, "grade_label": grades.label(inc.grade), "service": inc.service_id, "provider": inc.provider_id,
            "profile": view["profile"], "recipient": prof.recipient.model_dump(), "clocks": view["clocks"],
            "generated_at": iso(db.clock.now()), "generated_by": actor.label, "items": items,
            "summary": {k: narrative.get(k) for k in SUMMARY_KEYS} if kind == "summary" else None,
            "ledger_head": {"seq": head_seq, "hash": head_hash},
        }
        complete = all(i["filled"] for i in items[:2]) and (kind == "initial" or all(i["filled"] for i in items))
        content["complete"] = complete
        body = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True).encode()
        digest = hashlib.sha256(body).hexdigest()
        folder = (out_dir or data_dir() / "reports") / inc.id
        files = {"json": str(folder / f"{rid}.json"), "md": str(folder / f"{rid}.md"), "docx": str(folder / f"{rid}.docx")}
        # files first (each atomically): if the transaction then fails, no row points at nothing
        _write_atomic(Path(files["md"]), render_markdown(content).encode())
        _write_atomic(Path(files["docx"]), render_docx(content))
        _write_atomic(Path(files["json"]), body)
        s.add(Report(id=rid, incident_id=inc.id, kind=kind, number=number, content=content, sha256=digest, files=files,
                     complete=complete, created_by=actor.label, created_at=content["generated_at"]))
        s.flush()
        incidents.link(s, inc.id, "report", rid, content["generated_at"], f"{kind} report generated / 生成{kind}报告")
        ledger.append(s, db.clock, "report.generated", f"incident:{inc.id}", actor.label,
                      {"report": rid, "kind": kind, "sha256": digest, "complete": complete, "incident": inc.id})
        return {**content, "sha256": digest, "files": files}


def submit(db: Database, actor: Actor, report_id: str, to: str) -> dict[str, Any]:
    """Record that a report was submitted (时间、报送人、报送对象) and stop the clocks it answers."""
    if not (to or "").strip():
        raise Invalid("写明报送对象（如：上海市网信办）", "say whom it was submitted to (e.g. the provincial CAC)", field="to")
    with db.transaction() as s:
        r = s.get(Report, report_id)
        if r is None:
            raise NotFound(f"未知报告 {report_id}", f"unknown report {report_id}")
        inc = s.get(Incident, r.incident_id)
        _require_provider_side(s, actor, inc)
        if r.submitted_at:
            raise Conflict(f"报告 {report_id} 已于 {r.submitted_at} 由 {r.submitted_by} 报送", f"report {report_id} was already submitted at {r.submitted_at} by {r.submitted_by}",
                           code="already_submitted")
        now = iso(db.clock.now())
        r.submitted_at, r.submitted_by, r.submitted_to = now, actor.label, to.strip()
        answered = ("initial", "summary") if r.kind == "summary" else ("initial",)
        resolved = clocks.meet(s, db.clock, inc, answered, now)
        incidents.link(s, inc.id, "submission", report_id, now, f"submitted to {to.strip()} / 报送 {to.strip()}")
        ledger.append(s, db.clock, "report.submitted", f"incident:{inc.id}", actor.label,
                      {"report": report_id, "kind": r.kind, "sha256": r.sha256, "to": r.submitted_to, "incident": inc.id})
        out = {"report": report_id, "submitted_at": now, "submitted_by": actor.label, "submitted_to": r.submitted_to, "sha256": r.sha256}
    clocks.publish_resolved(resolved, now)
    return out
