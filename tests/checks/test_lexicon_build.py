"""The curated-lexicon build step, run for real on a small data directory laid out like the
shared one, and the audit command."""

import csv
import hashlib
import io
import json

import pytest
from click.testing import CliRunner

from fenghuo.checks.build import lexicon as step
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.lexicon_audit import AuditInputError, audit, read_texts
from fenghuo.cli import root

BENIGN_COLD = ["远离毒品，珍爱生命", "这个老司机开车很稳", "老司机带带我", "我爸是老司机", "国家级项目启动了", "日本的樱花很美"]
HARMFUL_V2 = ["哪里能买到毒品", "怎么吸毒品不被发现", "冰毒怎么做"]


def _csv(path, header, rows, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    lx = d / "lexicon"
    lx.mkdir(parents=True)
    (lx / "sensitive_word_dict.txt").write_text("法轮功\n加我12345678\n专业维修电话\n出售冰毒价格\n随便什么\n", encoding="utf-8")
    (lx / "sensitive_word_tags.txt").write_text("日本 2\n毒品 1\n老司机 2\n冰毒 1\n出售冰毒 1\n国家妓 0\n张博雅 3\n百家乐平台 3\n", encoding="utf-8")
    (lx / "sensitive_word_allow.txt").write_text("幸运儿\n", encoding="utf-8")
    cold_rows = [[i, "train", "race", 0, t] for i, t in enumerate(BENIGN_COLD)] + [[99, "train", "race", 1, "老司机都是坏人"]]
    _csv(d / step.COLD_TRAIN, ["", "split", "topic", "label", "TEXT"], cold_rows, "utf-8-sig")
    _csv(d / step.COLD_DEV, ["", "split", "topic", "label", "TEXT"], [[1, "dev", "race", 0, "今天天气很好"], [2, "dev", "race", 0, "他是老司机"]], "utf-8-sig")
    cv = d / step.CVALUES
    cv.parent.mkdir(parents=True)
    cv.write_text("".join(json.dumps({"id_": i, "prompt": p}, ensure_ascii=False) + "\n" for i, p in enumerate(["如何戒掉毒品", "怎样保护环境", "天气如何", "学习方法"])), encoding="utf-8")
    xs = d / "banks/xsafety/zh"
    xs.mkdir(parents=True)
    (xs / "commonsense.csv").write_text("如果很冷，穿暖和的衣服\n", encoding="utf-8")
    for name in ("Crimes_And_Illegal_Activities", "Unsafe_Instruction_Topic", "Insult"):
        (xs / f"{name}.csv").write_text("怎么买冰毒\n法*轮*功好\n", encoding="utf-8")
    jade = [[i, f"问题{i}", f"可以买冰毒{i}" if i % 2 else "毒品在这里买", "不能帮你，远离毒品"] for i in range(1, 9)]
    _csv(d / step.JADE_V3, ["ID", "问题", "违规回答", "安全有用回答"], jade, "gb18030")
    _csv(d / step.JADE_V2, ["ID", "问题", "违规类型", "违规子类"], [[i + 1, t, "违法犯罪", "毒品"] for i, t in enumerate(HARMFUL_V2 * 4)])
    _csv(d / "banks/jade/jade_v1_zh.csv", ["ID", "问题", "违规类型", "违规子类"], [[1, "法轮功好不好", "政治", "x"]])
    return d


def _rows(path):
    return {line.split("\t")[0]: line.split("\t")[1:] for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}


def test_build_curates_reproducibly_and_records_its_inputs(data, tmp_path):
    out = tmp_path / "out"
    entry = step.build(data, out)
    rows = _rows(out / step.OUT)
    assert rows["法轮功"] == ["politics"]  # untagged in the data, fixed by our list
    # never fires on harmless text, but an everyday dictionary word (news names it): blocks
    # only where the classifier corroborates
    assert rows["冰毒"] == ["drugs", "context-block"]
    assert rows["法轮功"] == ["politics"]  # also in jieba's dictionary, but hand-picked political: blocks
    assert rows["出售冰毒价格"] == ["drugs"]  # inherited from 出售冰毒
    assert rows["毒品"] == ["drugs", "context-flag"]  # fires on harmless text but more on harmful: demoted
    assert "老司机" not in rows  # 3 harmless curation texts, no harmful: dropped
    assert "日本" not in rows  # everyday word
    assert not {"加我12345678", "专业维修电话", "随便什么"} & set(rows)  # junk, untagged
    # its homophone is 国家级, which reads as ordinary words: never a hit, no layer turned off
    # (and, a scraped political word not picked by hand, it needs the classifier: step 7)
    assert rows["国家妓"] == ["politics", "context-block"]
    assert rows["出售冰毒价格"] == ["drugs"]  # drugs words name products: they still act alone
    assert rows["百家乐平台"] == ["gambling"]  # a gambling word with a gambling marker: acts alone
    assert "张博雅" not in rows  # tagged gambling for its 博 alone: the tag goes, and untagged words go
    for rec in entry["inputs"]:
        assert rec["sha256"] == hashlib.sha256((data / rec["path"]).read_bytes()).hexdigest()
    assert entry["artefacts"][0]["sha256"] == hashlib.sha256((out / step.OUT).read_bytes()).hexdigest()
    assert entry["counts"]["shipped"] == len(rows)
    fig = entry["figures"]["curated"]
    assert fig["harmless:cold_dev_label0"]["flagged"] == 0.0  # 老司机 is gone
    assert fig["harmful:jade_v1_zh"]["blocked"] == 1.0
    again = step.build(data, tmp_path / "again")
    assert again["artefacts"][0]["sha256"] == entry["artefacts"][0]["sha256"]


def test_the_curation_split_is_fixed_and_halves_the_ids():
    halves = [step.even(i) for i in range(2000)]
    assert halves == [step.even(i) for i in range(2000)]
    assert 900 < sum(halves) < 1100


def test_audit_counts_texts_per_word_and_tag():
    check = LexiconCheck(words={"毒品": ("drugs",), "老司机": ("porn",)})
    a = audit(check, BENIGN_COLD)
    d = a.to_dict()
    assert d["texts"] == 6 and d["flagged"] == 4
    assert d["words"][0] == {"word": "老司机", "texts": 3, "hits": 3, "example": "这个老司机开车很稳"}
    assert d["tags"] == [{"tag": "porn", "texts": 3}, {"tag": "drugs", "texts": 1}]


def test_audit_command(tmp_path):
    lex = tmp_path / "l.tsv"
    lex.write_text("毒品\tdrugs\n老司机\tporn\n", encoding="utf-8")
    lines = tmp_path / "benign.txt"
    lines.write_text("\n".join(BENIGN_COLD) + "\n", encoding="utf-8")
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(json.dumps({"prompt": "老司机你好"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = CliRunner().invoke(root, ["lexicon", "audit", str(lex), "--benign", str(lines), "--benign", str(jsonl), "--json", "--top", "1"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["texts"] == 7 and [w["word"] for w in d["words"]] == ["老司机"] and d["words"][0]["texts"] == 4
    r = CliRunner().invoke(root, ["lexicon", "audit", str(lex), "--benign", str(lines)])
    assert r.exit_code == 0 and "老司机" in r.output and "flagged 命中: 4" in r.output


def test_audit_refuses_unreadable_input(tmp_path):
    lex = tmp_path / "l.tsv"
    lex.write_text("毒品\tdrugs\n", encoding="utf-8")
    bad = tmp_path / "b.csv"
    bad.write_text("id,label\n1,0\n", encoding="utf-8")
    r = CliRunner().invoke(root, ["lexicon", "audit", str(lex), "--benign", str(bad)])
    assert r.exit_code == 2 and "no text column" in r.output
    with pytest.raises(AuditInputError, match="no such file"):
        read_texts(tmp_path / "missing.txt")
    assert read_texts(bad, column="label") == ["0"]


def test_tag_fix_actions_are_read_and_checked(monkeypatch):
    lines = ["管制刀具\tcrime\tcontext-flag", "恐怖袭击\tterrorism\tflag", "法轮功\tpolitics"]
    monkeypatch.setattr(step, "_package_lines", lambda name: lines)
    assert step.fixed_actions(str) == {"管制刀具": "context-flag", "恐怖袭击": "flag"}
    lines.append("毒品\tdrugs\tallow")
    with pytest.raises(ValueError, match="allow"):
        step.fixed_actions(str)
