"""A verdict per clause of TC260-003 §5/§9.2 and draft GB 45652 §6–§8 from the latest check,
scan and manual review — pure: summaries in, clauses out. Result strings are the evaluation
report's, so its self-assessment (CN-TC-25) can list these rows beside its own.
"""

from __future__ import annotations

from typing import Any

COMPLIANT, NON_COMPLIANT, NA = "符合 / compliant", "不符合 / non-compliant", "不适用 / not applicable"
NOT_ASSESSED = "不符合 / non-compliant (未评估 / not assessed)"

TITLES = {
    "CN-TC-01/02": "来源违法不良信息 ≤5%，超过则不采集、不使用 / a source over 5 % harmful is not collected or used",
    "CN-TC-03": "每种语言、每种类型至少两个来源 / at least two sources per language and type",
    "CN-TC-04": "开源语料保留开源许可 / open-source corpus keeps its licence",
    "CN-TC-05": "自采语料保留采集记录 / self-collected corpus keeps collection records",
    "CN-TC-06": "商业语料有合同 / commercial corpus under contract",
    "CN-TC-07": "用户输入有授权记录 / user inputs with an authorisation record",
    "CN-TC-08": "个人信息经同意 / personal information only with consent",
    "CN-TC-09": "公开训练语料摘要与知识产权投诉渠道 / public corpus summary and an IP complaint channel",
    "CN-TC-10": "关键词、分类模型、人工抽检过滤全部语料 / all corpus filtered by keywords, classifiers and manual sampling",
    "CN-TC-11": "标注与审核分离，每条安全标注有审核 / annotation separate from review, every item reviewed",
    "CN-TC-26": "人工抽检 ≥4000 条，合格率 ≥96% / manual sample ≥4,000, ≥96 % passing",
    "CN-TC-27": "技术抽检 ≥10%，合格率 ≥98% / technical sample ≥10 %, ≥98 % passing",
    "CN-TD-02/04": "每条样本有来源元数据 / provenance metadata on every sample",
    "CN-TD-05": "合成数据记录生成模型与时间 / synthetic data marked with generator and time",
    "CN-TC-31": "境外开源语料 ≤30%（未确认）/ foreign open-source ≤30 % (unconfirmed)",
}


def _c(cid: str, result: str, evidence: str) -> dict[str, Any]:
    return {"id": cid, "title": TITLES[cid], "result": result, "evidence": evidence}


def _pct(x: float) -> str:
    return f"{x:.2%}"


def _from_check(check: dict | None) -> list[dict[str, Any]]:
    if check is None:
        return [_c(cid, NOT_ASSESSED, "未运行 corpus check / corpus check not run")
                for cid in ("CN-TC-03", "CN-TC-04", "CN-TC-05", "CN-TC-06", "CN-TC-07", "CN-TD-02/04", "CN-TD-05", "CN-TC-31")]
    counts: dict[str, int] = {}
    for p in check["problems"]:
        counts[p["clause"]] = counts.get(p["clause"], 0) + 1
    for o in check.get("omitted", []):
        counts[o["clause"]] = counts.get(o["clause"], 0) + o["more"]
    kinds = {s["kind"] for s in check["sources"]}
    run = f"check {check.get('run', '?')}"

    def one(cid: str, keys: tuple[str, ...], kind: str | None = None) -> dict[str, Any]:
        n = sum(counts.get(k, 0) for k in keys)
        if kind is not None and kind not in kinds and not n:
            return _c(cid, NA, f"无 {kind} 来源 / no {kind} source ({run})")
        if n:
            first = next(p for p in check["problems"] if p["clause"] in keys)
            where = f"{first['source']} {first['file']}:{first['line']}" if first["line"] else first["source"]
            return _c(cid, NON_COMPLIANT, f"{n} 个问题，如 / problems, e.g. {where}: {first['problem']} ({run})")
        return _c(cid, COMPLIANT, f"无问题 / no problems ({run})")

    share = check["totals"]["foreign_open_source_share"]
    out = [
        one("CN-TC-03", ("CN-TC-03", "CN-TD-03")),
        one("CN-TC-04", ("CN-TC-04",), "open-source"),
        one("CN-TC-05", ("CN-TC-05",), "self-collected"),
        one("CN-TC-06", ("CN-TC-06",), "commercial"),
        one("CN-TC-07", ("CN-TC-07",), "user-input"),
        one("CN-TD-02/04", ("CN-TD-02", "CN-TD-04")),
        one("CN-TD-05", ("CN-TD-05",), "synthetic"),
        _c("CN-TC-31", NON_COMPLIANT if share > 0.30 else COMPLIANT,
           f"境外开源占比 / foreign open-source share {_pct(share)} of {check['totals']['samples']} samples ({run})"),
    ]
    return out


def _from_scan(scan: dict | None) -> list[dict[str, Any]]:
    if scan is None:
        return [_c(cid, NOT_ASSESSED, "未运行 corpus scan / corpus scan not run") for cid in ("CN-TC-01/02", "CN-TC-08", "CN-TC-27")]
    t = scan["totals"]
    run = f"scan {scan.get('run', '?')}, seed {t['seed']}, fraction {t['fraction']}"
    bad = [s for s in scan["sources"] if s["verdict"] == "do-not-use"]
    if bad:
        ev = "; ".join(f"{s['id']} {s['harmful']}/{s['scanned']} = {_pct(s['rate'])} (CI {_pct(s['ci_low'])}–{_pct(s['ci_high'])})" for s in bad)
        first = _c("CN-TC-01/02", NON_COMPLIANT, f"不可使用 / do-not-use: {ev}; 从训练清单移除 / remove from the training manifest ({run})")
    else:
        worst = max(scan["sources"], key=lambda s: s["rate"], default=None)
        ev = f"最高 / highest {worst['id']} {_pct(worst['rate'])}" if worst else "无来源 / no sources"
        first = _c("CN-TC-01/02", COMPLIANT, f"全部来源 ≤5% / every source ≤5 %; {ev} ({run})")
    n_pii, n_bad = t["pii"], t["pii_unconsented"]
    pii = _c("CN-TC-08", NON_COMPLIANT if n_bad else COMPLIANT,
             f"含个人信息样本 / samples with PI {n_pii}, 无同意记录 / without consent {n_bad} ({run})")
    tech = t["technical_sample"]
    tech_result = {"pass": COMPLIANT, "fail": NON_COMPLIANT, "insufficient": NON_COMPLIANT}[tech["status"]]
    tech_c = _c("CN-TC-27", tech_result,
                f"抽检 / scanned {t['scanned']}/{t['samples']} ({_pct(t['scanned_share'])}), 合格率 / pass rate {_pct(tech['rate'])} "
                f"(95% CI {_pct(tech['ci_low'])}–{_pct(tech['ci_high'])}); 要求 / required ≥10 %, ≥98 % ({run})")
    return [first, pii, tech_c]


def _from_review(review: dict | None) -> list[dict[str, Any]]:
    if review is None:
        return [_c(cid, NOT_ASSESSED, "无人工抽检 / no manual sample reviewed") for cid in ("CN-TC-11", "CN-TC-26")]
    r = review["pass_rate"]
    result = COMPLIANT if r["status"] == "pass" else NON_COMPLIANT
    manual = _c("CN-TC-26", result,
                f"{r['passed']}/{r['n']} = {_pct(r['rate'])} (95% CI {_pct(r['ci_low'])}–{_pct(r['ci_high'])}); "
                f"要求 / required n≥4000, ≥96 %; 待审 / pending {review['pending']} (sample {review.get('run', '?')})")
    sep_ok = review["separated"] and review["pending"] == 0
    sep = _c("CN-TC-11", COMPLIANT if sep_ok else NON_COMPLIANT,
             f"标注人 / annotators {len(review['annotators'])}, 审核人 / reviewers {len(review['reviewers'])}, "
             f"已审 / reviewed {review['reviewed']}/{review['items']}; 同一人不兼任 / no one both: {review['separated']}")
    return [sep, manual]


def build_clauses(check: dict | None, scan: dict | None, review: dict | None, manifest_info: dict | None) -> list[dict[str, Any]]:
    out = _from_scan(scan)[:1] + _from_check(check)
    out += _from_scan(scan)[1:2]
    info = manifest_info or {}
    ip = info.get("ip_complaints")
    out.append(_c("CN-TC-09", COMPLIANT if ip else NON_COMPLIANT,
                  f"投诉渠道 / complaint channel: {ip}; 摘要见本报告 / summary in this report" if ip
                  else "清单未写 ip_complaints / the manifest names no IP complaint channel"))
    checks = set((scan or {}).get("checks") or [])
    all_scanned = scan is not None and scan["totals"]["fraction"] >= 1.0
    stages_ok = all_scanned and {"lexicon", "classifier"} <= checks and review is not None
    totals = (scan or {}).get("totals", {})
    stages = ", ".join(f"{k} {v}" for k, v in (totals.get("blocked_by") or {}).items())
    manual = f"{review['pass_rate']['n'] - review['pass_rate']['passed']} 不合格 / failed of {review['pass_rate']['n']}" if review else "—"
    out.append(_c("CN-TC-10", COMPLIANT if stages_ok else NON_COMPLIANT,
                  f"全量扫描 / all scanned: {all_scanned}; 检查 / checks: {', '.join(sorted(checks)) or '—'}; "
                  f"各检查拦截 / blocked by check: {stages or '—'}; 人工抽检 / manual sample: {manual}"))
    out += _from_review(review)
    out += _from_scan(scan)[2:]
    order = list(TITLES)
    return sorted(out, key=lambda c: order.index(c["id"]))
