"""``fenghuo incident``: list, show, open, end, report, submit, accountability, order (监管暂停);
and ``fenghuo plan actions`` (plan steps carried out or awaiting approval)."""

from __future__ import annotations

import click

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.platform.errors import Invalid
from fenghuo.response import accountability, duties, incidents, regulator, reports


@click.group("incident")
def incident_group() -> None:
    """事件 Incidents: grading, timeline, reporting clocks, reports, accountability."""


def _show(v: dict) -> None:
    console.print(f"[bold]{v['id']}[/] {v['service']} — {v['grade_label']} — {v['status']} — {v['title']}")
    console.print(f"  opened {v['opened_at']} by {v['opened_by']} ({v['source']}); detected {v['detected_at']}; profile {v['profile']}")
    for c in v["clocks"]:
        left = f", {c['remaining_seconds']:.0f} s left" if "remaining_seconds" in c else ""
        console.print(f"  时限 clock \\[{c['report']}] due {c['due_at']} — {c['status']}{left}  ({c['rule']})")
    for d in v.get("duties", []):
        console.print(f"  职责 duty \\[{d['duty']}] due {d['due_at'] or '及时 promptly'} — {d['status']}  ({d['basis']})")
    for t in v["timeline"]:
        console.print(f"  {t['at']}  {t['kind']:<12} {t['ref']}  {t['note']}")
    for r in v["reports"]:
        console.print(f"  报告 report {r['id']} ({r['kind']}) created {r['created_at']}; submitted {r['submitted_at'] or '-'} {r['submitted_to'] or ''}")


@incident_group.command("list")
@click.option("--status", type=click.Choice(["open", "ended"]))
@click.option("--service")
@click.option("--grade", help="IV, III, II or I (一般/较大/重大/特别重大)")
@click.option("--provider")
@click.option("--source", type=click.Choice(["plan", "operator", "regulator"]))
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(status: str | None, service: str | None, grade: str | None, provider: str | None, source: str | None, limit: int,
             after: str | None, everything: bool, as_json: bool) -> None:
    """Incidents you can see, newest first, a page at a time / 事件列表（分页）。"""
    f = incidents.IncidentFilter(status=status, service=service, grade=grade, provider=provider, source=source)
    page = cli_pages.walk(client(), lambda db, a, cur: incidents.incident_page(db, a, f, after=cur, limit=limit), "/api/v1/incidents",
                          vars(f), after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for v in [] if as_json else page.items:
        console.print(f"{v['id']}  {v['service']}  {v['grade_label']}  {v['status']}  {v['title']}")
    cli_pages.next_hint(page)


@incident_group.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def show(incident_id: str, as_json: bool) -> None:
    """An incident with its clocks and timeline / 事件详情。"""
    v = client().call(lambda db, a: incidents.get(db, a, incident_id), "GET", f"/api/v1/incidents/{incident_id}")
    print_json(v) if as_json else _show(v)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for f in values:
        k, sep, v = f.partition("=")
        if not sep or not k.strip():
            raise Invalid(f"写作 键=值：{f!r}", f"write KEY=VALUE: {f!r}", field=what)
        out[k.strip()] = v
    return out


def _impact(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for k, v in _pairs(values, "impact").items():
        try:
            out[k] = float(v.replace(",", "").replace("_", ""))
        except ValueError:
            raise Invalid(f"影响须为数字：{k}={v}", f"impact must be a number: {k}={v}", field="impact") from None
    return out


@incident_group.command("open")
@click.argument("service_id")
@click.option("--grade", required=True, help="一般/较大/重大/特别重大 or IV/III/II/I")
@click.option("--title", required=True)
@click.option("--flag", "flags", multiple=True, help=f"e.g. death, critical_infrastructure ({', '.join(sorted(incidents.FLAGS))})")
@click.option("--detected-at", help="When it was discovered / the provider became aware (ISO 8601 with zone); clocks run from it")
@click.option("--impact", "impacts", multiple=True, metavar="KEY=N", help="Grading Guide numbers, e.g. pi_persons=1200000")
@click.option("--profile", help="Reporting profile (default: from the service's grade and operator_type)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def open_cmd(service_id: str, grade: str, title: str, flags: tuple[str, ...], detected_at: str | None, impacts: tuple[str, ...],
             profile: str | None, as_json: bool) -> None:
    """Open an incident by hand / 手动开启事件。"""
    impact = _impact(impacts)
    body = {"service": service_id, "grade": grade, "title": title, "flags": list(flags), "profile": profile,
            "detected_at": detected_at, "impact": impact}
    v = client().call(lambda db, a: incidents.open_incident(db, a, service_id, grade, title, flags=list(flags), profile=profile,
                                                            detected_at=detected_at, impact=impact or None),
                      "POST", "/api/v1/incidents", json=body)
    print_json(v) if as_json else _show(v)


@incident_group.command("update")
@click.argument("incident_id")
@click.option("--flag", "flags", multiple=True, help="A flag learned later (moves clocks earlier, starts duties)")
@click.option("--impact", "impacts", multiple=True, metavar="KEY=N", help="Grading Guide numbers, e.g. pi_persons=1200000")
@click.option("--grade", help="A higher grade (grades are never lowered)")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@refusals
def update_cmd(incident_id: str, flags: tuple[str, ...], impacts: tuple[str, ...], grade: str | None, note: str, as_json: bool) -> None:
    """New facts: flags, impact numbers, a higher grade / 更新事件情况。"""
    impact = _impact(impacts)
    v = client().call(lambda db, a: incidents.update_incident(db, a, incident_id, flags=list(flags), impact=impact or None,
                                                              grade=grade, note=note),
                      "POST", f"/api/v1/incidents/{incident_id}/update",
                      json={"flags": list(flags), "impact": impact, "grade": grade, "note": note})
    print_json(v) if as_json else _show(v)


@incident_group.command("duty")
@click.argument("incident_id")
@click.argument("kind", type=click.Choice(sorted(duties.KINDS)))
@click.option("--field", "fields", multiple=True, metavar="KEY=TEXT", help=f"What was said: {', '.join(sorted(duties.CONTENT))}, note")
@refusals
def duty_cmd(incident_id: str, kind: str, fields: tuple[str, ...]) -> None:
    """Record a duty done: police report, notice to individuals, vulnerability report / 履行职责。"""
    content = _pairs(fields, "field")
    v = client().call(lambda db, a: incidents.complete_duty(db, a, incident_id, kind, content),
                      "POST", f"/api/v1/incidents/{incident_id}/duties/{kind}", json={"content": content})
    console.print(f"[green]✓[/] {v['duty']} {v['status']} at {v['done_at']} by {v['done_by']}")


@incident_group.command("end")
@click.argument("incident_id")
@click.option("--note", default="")
@refusals
def end(incident_id: str, note: str) -> None:
    """Handling has ended; the 30-day summary clock starts / 处置结束。"""
    _show(client().call(lambda db, a: incidents.end_handling(db, a, incident_id, note), "POST", f"/api/v1/incidents/{incident_id}/end", json={"note": note}))


@incident_group.command("report")
@click.argument("incident_id")
@click.option("--kind", type=click.Choice(reports.KINDS), default="initial", show_default=True)
@click.option("--field", "fields", multiple=True, metavar="KEY=TEXT", help=f"Narrative: {', '.join(sorted(reports.NARRATIVE_KEYS))}")
@click.option("--json", "as_json", is_flag=True)
@refusals
def report(incident_id: str, kind: str, fields: tuple[str, ...], as_json: bool) -> None:
    """Generate a report (JSON, Markdown, DOCX) / 生成报告。"""
    narrative = _pairs(fields, "field")
    v = client().call(lambda db, a: reports.generate(db, a, incident_id, kind, narrative), "POST", f"/api/v1/incidents/{incident_id}/reports",
             json={"kind": kind, "narrative": narrative})
    if as_json:
        return print_json(v)
    console.print(f"[green]✓[/] {v['report']} ({'complete 完整' if v['complete'] else 'parts to be supplemented 部分待补充'}) sha256 {v['sha256'][:16]}…")
    for k, path in v["files"].items():
        console.print(f"  {k}: {path}")
    console.print(f"  报送后记录 / after submitting: fenghuo incident submit {v['report']} --to '…'")


@incident_group.command("submit")
@click.argument("report_id")
@click.option("--to", "to", required=True, help="Recipient, e.g. 北京市网信办 / 报送对象")
@refusals
def submit(report_id: str, to: str) -> None:
    """Record that a report was submitted: when, by whom, to whom / 记录报送。"""
    v = client().call(lambda db, a: reports.submit(db, a, report_id, to), "POST", f"/api/v1/reports/{report_id}/submit", json={"to": to})
    console.print(f"[green]✓[/] {v['report']} submitted {v['submitted_at']} by {v['submitted_by']} to {v['submitted_to']}")


@incident_group.command("accountability")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def accountability_cmd(incident_id: str, as_json: bool) -> None:
    """The accountability record, computed from the ledger / 履责记录（由账本计算）。"""
    v = client().call(lambda db, a: accountability.compute(db, a, incident_id), "GET", f"/api/v1/incidents/{incident_id}/accountability")
    if as_json:
        return print_json(v)
    d = v["durations_seconds"]
    console.print(f"[bold]{v['incident']}[/] {v['service']} grade {v['grade']} — from ledger seq {v['ledger_range']['from_seq']}…{v['ledger_range']['to_seq']}")
    for label, key in (("发现 detect", "to_detect"), ("首个动作 first action", "to_first_action"), ("暂停 pause", "to_pause"),
                       ("报告 report", "to_report"), ("恢复 recover", "to_recover")):
        console.print(f"  time to {label:<22} {'-' if d[key] is None else f'{d[key]:.0f} s'}")
    r = v["reporting"]
    if r:
        console.print(f"  报告时限 deadline {r['deadline']} — {'按时 on time' if r['on_time'] else '[red]逾期或未报 late or missing[/]'} ({r['rule']})")
    for x in v["remediation"]:
        console.print(f"  整改 remediation {x['at']} [{x['kind']}] {x['description']} evidence {x['evidence']} by {x['by']} (seq {x['seq']})")
    for x in v["verification"]:
        console.print(f"  验证 verification {x['at']} {x['method']} {x['ref'][:16]} {'passed' if x['passed'] else 'failed'} by {x['by']} (seq {x['seq']})")
    for x in v["approvals"]:
        console.print(f"  审批 approval {x['at']} {x['by']}: {x['what']} (seq {x['seq']})")


@incident_group.command("order")
@click.argument("service_id")
@click.option("--reason", "-r", required=True)
@click.option("--order", "order_ref", help="Order number / 暂停令编号")
@click.option("--grade", default="III", show_default=True)
@refusals
def order(service_id: str, reason: str, order_ref: str | None, grade: str) -> None:
    """A regulator orders a suspension (监管暂停, CN-EP-07); only a regulator can lift it."""
    v = client().call(lambda db, a: regulator.order_pause(db, a, service_id, reason, order_ref=order_ref, grade=grade), "POST",
             f"/api/v1/services/{service_id}/orders", json={"reason": reason, "order": order_ref, "grade": grade})
    console.print(f"[green]✓[/] order {v['order']}: {v['service']} {v['state']} (hold by {v['hold_by']}); incident {v['incident']}")


@click.command("actions")
@click.option("--service")
@click.option("--pending", is_flag=True, help="Only steps awaiting approval / 只看待审批")
@click.option("--warning", help="steps of this warning / 该预警的动作")
@click.option("--incident", help="steps linked to this incident / 该事件的动作")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def actions_cmd(service: str | None, pending: bool, warning: str | None, incident: str | None, limit: int, after: str | None,
                everything: bool, as_json: bool) -> None:
    """Plan steps carried out or awaiting approval (who can approve, since when), oldest first / 预案动作（分页）。"""
    from fenghuo.response import action_pages

    f = action_pages.ActionFilter(service=service, warning=warning, incident=incident, status="awaiting_approval" if pending else None)
    params = {"service": service, "pending": pending or None, "warning": warning, "incident": incident}
    page = cli_pages.walk(client(), lambda db, a, cur: action_pages.action_page(db, a, f, after=cur, limit=limit), "/api/v1/plan-actions",
                          params, after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for r in [] if as_json else page.items:
        extra = f" — {r['who_can_approve']} since {r['since']}: fenghuo approve {r['action']}" if r["who_can_approve"] else f" — {r['detail']}"
        console.print(f"{r['action']}  {r['service']}  {r['plan']} {r['step']} {r['do']}  [{r['status']}]{extra}")
    cli_pages.next_hint(page)
