"""What each source and each sample must carry: the pure rules behind ``corpus check``.

- source level: the document each kind keeps — open-source licence (CN-TC-04), self-collected
  collection log (CN-TC-05), commercial contract (CN-TC-06), user-input authorisation
  (CN-TC-07), synthetic generator (CN-TD-05);
- sample level (CN-TD-02, CN-TD-04): a website sample names its URL; a dataset names itself and
  its organisation; a user's input names the user and a consent record that exists (CN-TC-07);
  a synthetic sample names its generator and when it was made (CN-TD-05);
- corpus level: at least two sources per language and per modality (CN-TC-03, CN-TD-03), and
  the share of foreign open-source samples (CN-TC-31, ≤ 30 %, a warning: one blog says so).

No I/O here: ``audit`` feeds samples in and reports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from fenghuo.corpus.manifest import EVIDENCE, EVIDENCE_FILES, Source

FOREIGN_OPEN_SOURCE_MAX = 0.30
MIN_SOURCES = 2
EVIDENCE_CLAUSE = {"open-source": "CN-TC-04", "self-collected": "CN-TC-05", "commercial": "CN-TC-06",
                   "user-input": "CN-TC-07", "synthetic": "CN-TD-05"}


def source_problems(src: Source, base: Path) -> list[tuple[str, str]]:
    """(clause, problem) for what the source itself lacks."""
    out: list[tuple[str, str]] = []
    need = EVIDENCE.get(src.kind)
    if need is None:
        return out
    clause = EVIDENCE_CLAUSE[src.kind]
    value = src.evidence.get(need)
    if not value:
        out.append((clause, f"{src.kind} 来源缺少 {need} / {src.kind} source has no {need}"))
    elif need in EVIDENCE_FILES and not (base / value).is_file():
        out.append((clause, f"{need} 文件不存在：{value} / {need} file not found: {value}"))
    for key in EVIDENCE_FILES:  # a document named but absent is a problem whatever the kind
        v = src.evidence.get(key)
        if key != need and v and not (base / v).is_file():
            out.append((clause, f"{key} 文件不存在：{v} / {key} file not found: {v}"))
    return out  # a synthetic sample's time is checked per sample (acquired_at; a default may supply it)


def sample_problems(kind: str, meta: dict[str, str], consents: dict[str, str | None] | None) -> list[tuple[str, str]]:
    """(clause, problem) for what one sample's metadata lacks."""
    has = meta.get
    if kind == "open-source":
        if not (has("url") or (has("dataset") and has("organisation"))):
            return [("CN-TD-04", "缺少来源：url，或 dataset 与 organisation / no provenance: url, or dataset and organisation")]
    elif kind == "self-collected":
        if not has("url"):
            return [("CN-TD-04", "自采数据缺少 url / self-collected sample has no url")]
    elif kind == "commercial":
        if not (has("dataset") and has("organisation")):
            return [("CN-TD-04", "商业数据缺少 dataset 或 organisation / commercial sample lacks dataset or organisation")]
    elif kind == "user-input":
        out = []
        if not has("user_id"):
            out.append(("CN-TD-04", "用户输入缺少 user_id / user input has no user_id"))
        cid = has("consent_id")
        if not cid:
            out.append(("CN-TC-07", "用户输入缺少授权记录 consent_id / user input has no consent_id"))
        elif consents is not None and not consent_matches(consents, cid, has("user_id")):
            out.append(("CN-TC-07", f"授权记录不存在或不属于该用户：{cid} / no consent record {cid} for this user"))
        return out
    elif kind == "synthetic":
        out = []
        if not has("generator"):
            out.append(("CN-TD-05", "合成数据缺少 generator / synthetic sample has no generator"))
        if not has("acquired_at"):
            out.append(("CN-TD-05", "合成数据缺少生成时间 acquired_at / synthetic sample has no acquired_at"))
        return out
    return []


def consent_matches(consents: dict[str, str | None], consent_id: str | None, user_id: str | None) -> bool:
    """A consent record with this id exists and, when both name a user, for the same user."""
    if not consent_id or consent_id not in consents:
        return False
    owner = consents[consent_id]
    return owner is None or user_id is None or owner == user_id


def diversity(sources: list[Source]) -> list[tuple[str, Source, str]]:
    """(clause, a source, problem) for each language and each modality with fewer than two
    sources. The source named is the first of the group, so the problem points at a line."""
    out = []
    by_lang: dict[tuple[str, str], list[Source]] = defaultdict(list)
    by_modality: dict[str, list[Source]] = defaultdict(list)
    for s in sources:
        by_lang[(s.modality, s.language)].append(s)
        by_modality[s.modality].append(s)
    for (modality, lang), group in sorted(by_lang.items()):
        if len(group) < MIN_SOURCES:
            out.append(("CN-TC-03", group[0], f"语言 {lang}（{modality}）只有 {len(group)} 个来源，至少需要 {MIN_SOURCES} 个 / "
                        f"language {lang} ({modality}) has {len(group)} source(s); at least {MIN_SOURCES} needed"))
    for modality, group in sorted(by_modality.items()):
        if len(group) < MIN_SOURCES:
            out.append(("CN-TD-03", group[0], f"类型 {modality} 只有 {len(group)} 个来源 / type {modality} has {len(group)} source(s)"))
    return out


def foreign_open_source_share(samples_by_source: Counter, sources: list[Source]) -> float:
    total = sum(samples_by_source.values())
    foreign = sum(samples_by_source[s.id] for s in sources if s.kind == "open-source" and s.origin == "foreign")
    return foreign / total if total else 0.0
