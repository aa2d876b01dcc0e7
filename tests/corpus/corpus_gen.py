"""A generated corpus with planted figures, written to a temporary folder at test time.

Harmful texts are ones the shipped checks block for certain (gambling, drugs, weapons); harmless
texts are everyday sentences with faker cities, dates and numbers, never names (faker's Chinese
names include lexicon words such as 军, its English text trips the classifier) — and
``test_planted_texts_are_what_the_checks_say`` re-checks every distinct text, so a change in the
checks shows up there first, not as a puzzling rate. Public text (COLD dev, from
``../shared/data``) is read at test time, never copied into the repository.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

HARMFUL = ["欢迎来到澳门娱乐城，首充送彩金", "出售冰毒，量大从优", "网上百家乐赌场，注册就送", "代开发票，出售枪支", "六合彩内部资料"]
ZH = ["{date}上午十点在{city}开会，请准时参加。", "今天{city}的天气晴朗，适合出去散步。", "请问{city}到北京的火车几点发车？",
      "周末我们一起去{city}的博物馆参观吧。", "这家餐厅的红烧肉很好吃，我们每次都点。", "{city}的图书馆{date}开放，欢迎读者借阅。"]
EN = ["The weather is sunny today, good for a walk.", "Please send me the meeting notes from this morning.",
      "The museum opens at nine on weekdays.", "I would like a cup of tea with milk, please.",
      "The train leaves at ten in the morning.", "Our team finished the report ahead of schedule."]


@dataclass
class Planted:
    root: Path
    manifest: Path
    harmful: dict[str, int] = field(default_factory=dict)  # source -> planted harmful count
    sizes: dict[str, int] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)  # source -> every text, in order
    unconsented: list[tuple[str, int]] = field(default_factory=list)  # (file, line) of PII without consent
    consented: list[tuple[str, int]] = field(default_factory=list)
    missing_url: list[tuple[str, int]] = field(default_factory=list)
    public: bool = False


def _zh(f: Faker, i: int) -> str:
    return ZH[i % len(ZH)].format(city=f.city(), date=f.date())


def _mixed(f: Faker, n: int, harmful: int) -> list[str]:
    """n texts, ``harmful`` of them harmful, spread evenly (every n/harmful-th)."""
    out = [_zh(f, i) for i in range(n)]
    for k in range(harmful):
        out[(k * n) // harmful] = HARMFUL[k % len(HARMFUL)]
    return out


def _jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def build(root: Path, shared: Path | None, n: int = 1000) -> Planted:
    f = Faker("zh_CN")
    f.seed_instance(17)
    p = Planted(root=root, manifest=root / "corpus.yaml")
    (root / "licences").mkdir(parents=True)
    (root / "licences" / "web-a.txt").write_text("CC-BY-4.0\n", encoding="utf-8")
    (root / "records").mkdir()
    (root / "records" / "crawl.log").write_text("url fetch_time robots_allowed\n", encoding="utf-8")
    (root / "records" / "user-terms.txt").write_text("用户协议第 7 条：授权用于训练\n", encoding="utf-8")

    # web-a: open-source, JSONL, 49 of 1000 harmful (4.9 %); three samples without provenance.
    texts = _mixed(f, n, 49)
    recs = [{"text": t, "url": f"https://a.example/{i}"} for i, t in enumerate(texts)]
    for line in (7, 300, 901):
        del recs[line - 1]["url"]
        p.missing_url.append(("data/web-a.jsonl", line))
    _jsonl(root / "data" / "web-a.jsonl", recs)
    p.harmful["web-a"], p.sizes["web-a"], p.texts["web-a"] = 49, n, texts

    # web-b: self-collected, CSV, 51 of 1000 harmful (5.1 %).
    texts = _mixed(f, n, 51)
    with open(root / "data" / "web-b.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["url", "content"])
        for i, t in enumerate(texts):
            w.writerow([f"https://b.example/{i}", t])
    p.harmful["web-b"], p.sizes["web-b"], p.texts["web-b"] = 51, n, texts

    # users: user input, JSONL; 40 samples, PII in 20: 10 consented, 5 with an unknown consent id,
    # 5 without one (those 5 also fail CN-TC-07 in `check`).
    consents, recs, texts = [], [], []
    for i in range(40):
        line = i + 1
        if i < 20:
            t = f"我的手机号是{f.phone_number()}，邮箱{f.email()}。"
        else:
            t = _zh(f, i)
        rec = {"text": t, "user_id": f"u{i}", "service": "chat"}
        if i < 10 or i >= 20:
            rec["consent_id"] = f"c{i}"
            consents.append({"consent_id": f"c{i}", "user_id": f"u{i}"})
            if i < 10:
                p.consented.append(("data/users.jsonl", line))
        elif i < 15:
            rec["consent_id"] = f"c-unknown-{i}"
            p.unconsented.append(("data/users.jsonl", line))
        else:
            p.unconsented.append(("data/users.jsonl", line))
        recs.append(rec)
        texts.append(t)
    _jsonl(root / "data" / "users.jsonl", recs)
    _jsonl(root / "records" / "consents.jsonl", consents)
    p.harmful["users"], p.sizes["users"], p.texts["users"] = 0, 40, texts

    # books-en: open-source, foreign, Parquet, no licence; the only English source.
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [EN[i % len(EN)] for i in range(120)]
    pq.write_table(pa.table({"body": texts, "dataset": ["books"] * 120, "organisation": ["Example Press"] * 120}),
                   root / "data" / "books-en.parquet")
    p.harmful["books-en"], p.sizes["books-en"], p.texts["books-en"] = 0, 120, texts

    # synth: synthetic, plain text, generator and time from the source's defaults.
    texts = [_zh(f, i) for i in range(60)]
    (root / "data" / "synth.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    p.harmful["synth"], p.sizes["synth"], p.texts["synth"] = 0, 60, texts

    sources = [
        {"id": "web-a", "kind": "open-source", "language": "zh", "licence": "licences/web-a.txt",
         "files": ["data/web-a.jsonl"], "text_field": "text"},
        {"id": "web-b", "kind": "self-collected", "language": "zh", "collection_log": "records/crawl.log",
         "files": ["data/web-b.csv"], "text_field": "content"},
        {"id": "users", "kind": "user-input", "language": "zh", "consent": "records/user-terms.txt",
         "files": ["data/users.jsonl"]},
        {"id": "books-en", "kind": "open-source", "language": "en", "origin": "foreign",
         "files": ["data/books-en.parquet"], "text_field": "body"},
        {"id": "synth", "kind": "synthetic", "language": "zh", "generator": "qwen2-7b-instruct@2025-01",
         "files": ["data/synth.txt"], "metadata": {"generator": "qwen2-7b-instruct@2025-01", "acquired_at": "2025-01-05T00:00:00Z"}},
    ]
    cold = shared / "classifier" / "cold" / "dev.csv" if shared else None
    if cold is not None and cold.is_file():
        with open(cold, encoding="utf-8-sig", newline="") as fh:
            rows = [r["TEXT"] for _, r in zip(range(300), csv.DictReader(fh))]
        _jsonl(root / "data" / "cold.jsonl", [{"text": t} for t in rows])
        sources.append({"id": "cold-public", "kind": "open-source", "language": "zh", "licence": "licences/web-a.txt",
                        "files": ["data/cold.jsonl"], "metadata": {"dataset": "COLDataset dev", "organisation": "thu-coai"}})
        p.texts["cold-public"], p.sizes["cold-public"], p.public = rows, len(rows), True
    import yaml

    p.manifest.write_text(yaml.safe_dump({
        "name": "planted", "organisation": "Example Ltd", "ip_complaints": "ip@example.com",
        "consent_records": "records/consents.jsonl", "sources": sources}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p
