"""`fenghuo scan`: the content checks on one text, on each line of stdin, or on (prompt, answer)
pairs; per-text lines, JSON, or a summary for big inputs."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

MAX_FINDINGS = 20  # finding lines per text in text mode: a dense text can have thousands
MAX_JSON_FINDINGS = 100  # findings per JSON object: one 50 MB line had 980k (69 MB of output, issue 15)


def capped(d: dict, limit: int) -> dict:
    """The verdict with at most ``limit`` findings; ``findings_more`` counts the rest (the
    verdict, categories, risks and scores still count every finding)."""
    findings = d.get("findings", [])
    if len(findings) <= limit:
        return d
    return {**d, "findings": findings[:limit], "findings_more": len(findings) - limit}


class InputError(click.ClickException):
    """A configuration or input problem: exit status 2, as for a usage error (1 means blocked)."""

    exit_code = 2


def load_for_scan(config: str | None, lexicon: tuple[str, ...]):
    """The pipeline with whatever loads; one line on stderr per configured check that did not."""
    from pathlib import Path

    from fenghuo.checks.config import build_lexicon
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    try:
        pipe = load_pipeline(config, strict=False)
        if lexicon:
            pipe.checks.insert(0, build_lexicon({"files": list(lexicon), "name": "lexicon.cli"}, pipe.policy, Path.cwd()))
    except (ConfigError, ValueError, OSError) as exc:
        raise InputError(str(exc)) from None
    for note in pipe.notes:
        click.echo(f"warning 警告: {note}", err=True)
    return pipe


def load_judge_for(pairs: bool):
    """The answer judge when ``--pairs`` asks for one (else None); a judge that cannot load is
    an input error with its one-line reason, like a check that cannot load."""
    if not pairs:
        return None
    from fenghuo.checks.pairs import load_judge

    try:
        return load_judge()
    except ValueError as exc:
        raise InputError(str(exc)) from None


class Summary:
    """Counts for ``--summary``: per verdict, category and risk, and the time per text."""

    def __init__(self) -> None:
        self.texts = 0
        self.verdicts: Counter = Counter()
        self.categories: Counter = Counter()
        self.risks: Counter = Counter()
        self.refused = self.compliance = 0
        self.elapsed: list[float] = []

    def add(self, d: dict) -> None:
        self.texts += 1
        self.verdicts[d["verdict"]] += 1
        self.categories.update(d["categories"])
        self.risks.update(d["risks"])
        self.refused += bool(d.get("refused"))
        self.compliance += bool(d.get("compliance_risk"))
        self.elapsed.append(d["elapsed_us"])

    def to_dict(self, pairs: bool) -> dict:
        el = sorted(self.elapsed)
        pct = (lambda q: el[min(len(el) - 1, int(q * len(el)))] if el else 0.0)  # noqa: E731
        out = {
            "texts": self.texts,
            "verdicts": {k: self.verdicts.get(k, 0) for k in ("block", "flag", "pass")},
            "categories": dict(self.categories.most_common()),
            "risks": dict(sorted(self.risks.items())),
            "elapsed_us": {"p50": round(pct(0.5), 1), "p99": round(pct(0.99), 1)},
        }
        if pairs:
            out.update(refused=self.refused, compliance_risk=self.compliance)
        return out

    def echo(self, as_json: bool, pairs: bool) -> None:
        d = self.to_dict(pairs)
        if as_json:
            click.echo(json.dumps(d, ensure_ascii=False))
            return
        v = d["verdicts"]
        click.echo(f"texts 文本: {d['texts']}  block 拦截: {v['block']}  flag 标记: {v['flag']}  pass 通过: {v['pass']}  "
                   f"(p50 {d['elapsed_us']['p50']:.0f} µs, p99 {d['elapsed_us']['p99']:.0f} µs)")
        if pairs:
            click.echo(f"refused 拒答: {d['refused']}  compliance_risk 有害顺从: {d['compliance_risk']}")
        for cat, n in d["categories"].items():
            click.echo(f"  {cat}: {n}")
        if d["risks"]:
            click.echo("  risks 风险: " + ", ".join(f"{r} {n}" for r, n in d["risks"].items()))


def echo_text(text: str, d: dict, max_findings: int) -> None:
    label = {"block": "BLOCK 拦截", "flag": "FLAG 标记", "pass": "PASS 通过"}[d["verdict"]]
    extra = ""
    if "refused" in d:
        extra = f"  refused={str(d['refused']).lower()} compliance_risk={str(d['compliance_risk']).lower()}"
    click.echo(f"{label}  ({d['elapsed_us']:.0f} µs)  {text[:60]!r}{extra}")
    findings = d["findings"]
    for f in findings[:max_findings]:
        score = f" score={f['score']:.3f}" if f["score"] is not None else ""
        click.echo(f"  [{f['start']}:{f['end']}] {f['category']} {f['action']} risk={f['risk'] or '-'} {f['text']!r} ({f['rule']}){score}")
    if len(findings) > max_findings:
        click.echo(f"  … {len(findings) - max_findings} more / 另有 {len(findings) - max_findings} 条")
    for e in d["errors"]:
        click.echo(f"  error 错误: {e}")


@click.command("scan")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text (with --summary: one in all) / 输出 JSON")
@click.option("--pairs", is_flag=True, help='stdin lines are {"prompt": …, "answer": …}: judge each answer as the reply to its prompt / 按问答对评判回答')
@click.option("--summary", is_flag=True, help="Counts per verdict, category and risk instead of a line per text / 只输出汇总")
@click.option("--max-findings", type=click.IntRange(min=0), default=None,
              help=f"Findings shown per text (default {MAX_FINDINGS} lines in text, {MAX_JSON_FINDINGS} in JSON, where "
                   "findings_more counts the rest) / 每条文本最多显示的发现数")
@click.option("--config", type=click.Path(dir_okay=False), help="Pipeline YAML (default: $FENGHUO_CHECKS_CONFIG or packaged) / 管线配置")
@click.option("--lexicon", multiple=True, type=click.Path(dir_okay=False), help="Extra lexicon file(s) / 追加词表文件")
def scan_cmd(text: str | None, as_json: bool, pairs: bool, summary: bool, max_findings: int | None, config: str | None,
             lexicon: tuple[str, ...]) -> None:
    """Run the content checks on TEXT, or on each line of stdin with `-` / 检查文本或标准输入的每一行。

    \b
    Output per text: verdict (block | flag | pass), categories, TC260-003 risks, a score per
    category, findings (spans of the original text), elapsed µs; with --pairs also refused
    and compliance_risk. A configured check that cannot load is named in one warning line and
    the scan goes on without it.
    \b
    Exit status 退出码:
      0  nothing scanned has a blocking finding / 无拦截
      1  at least one text or line has a finding whose action is block / 至少一条被拦截
      2  usage, configuration or input error (incl. a non-UTF-8 stdin line or, with --pairs,
         a line that is not a prompt/answer object), when nothing was blocked / 用法、配置或输入错误
    """
    if pairs and text != "-":
        raise click.UsageError("--pairs reads JSON lines from stdin: give `-` / --pairs 从标准输入读取，请用 -")
    if max_findings is None:
        max_findings = MAX_JSON_FINDINGS if as_json else MAX_FINDINGS
    pipe = load_for_scan(config, lexicon)
    judge = load_judge_for(pairs)
    totals = Summary() if summary else None

    def emit(t: str, d: dict) -> None:
        if totals is not None:
            totals.add(d)
        elif as_json:
            click.echo(json.dumps({"text": t, **capped(d, max_findings)}, ensure_ascii=False))
        else:
            echo_text(t, d, max_findings)

    if text is not None and text != "-":
        v = pipe.scan(text)
        emit(text, v.to_dict(text))
        if totals is not None:
            totals.echo(as_json, pairs)
        sys.exit(1 if v.blocked else 0)
    from fenghuo.checks.pairs import judge_pair, parse_pair

    blocked = bad_input = False
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            click.echo(f"stdin line {n}: not UTF-8 (byte {raw[exc.start]:#04x} at {exc.start}); skipped / 第{n}行不是 UTF-8，已跳过", err=True)
            bad_input = True
            continue
        if pairs:
            if not line.strip():
                continue
            try:
                prompt, answer = parse_pair(line, f"stdin line {n}")
            except ValueError as exc:
                click.echo(f"{exc}; skipped / 已跳过", err=True)
                bad_input = True
                continue
            r = judge_pair(pipe, judge, prompt, answer)
            blocked |= r.blocked
            emit(answer, {"prompt": prompt, **r.to_dict(answer)})
            continue
        v = pipe.scan(line)
        blocked |= v.blocked
        emit(line, v.to_dict(line))
    if totals is not None:
        totals.echo(as_json, pairs)
    # A blocked line is the answer the caller asked for; an unreadable line means the answer
    # is incomplete, which outranks "nothing blocked" but not a block that was found.
    sys.exit(1 if blocked else 2 if bad_input else 0)
