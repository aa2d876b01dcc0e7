import time

import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.lexicon_file import LexiconError, read_lexicon
from fenghuo.checks.policy import Policy

from .conftest import write


def spans(check, text):
    return [(f.category, text[f.start : f.end]) for f in check.scan(text).findings]


def test_tagged_file_maps_codes_to_categories_and_actions(tmp_path):
    f = write(tmp_path / "lex.txt", "赌博\t3\n冰毒\t1,4\n# comment\n\n普通词\n")
    check = LexiconCheck(files=[f])
    assert spans(check, "不要赌博和冰毒") == [("gambling", "赌博"), ("drugs", "冰毒"), ("crime", "冰毒")]
    f0 = check.scan("赌博").findings[0]
    assert f0.action is Action.BLOCK and f0.risk == "A1h"
    assert spans(check, "普通词")[0][0] == "sensitive"


def test_allow_listed_word_is_not_reported(tmp_path):
    check = LexiconCheck(words={"幸运": ("gambling",)}, allow=["幸运儿"])
    assert spans(check, "他是个幸运儿") == []
    assert spans(check, "祝你幸运") == [("gambling", "幸运")]


def test_a_word_split_across_a_line_is_not_assembled():
    check = LexiconCheck(words={"赌博": ("gambling",)})
    assert spans(check, "我们去赌\n博物馆看看") == []
    assert spans(check, "我们去赌。博物馆") == []


def test_english_words_need_word_boundaries_in_the_original():
    check = LexiconCheck(words={"anal": ("porn",), "sex": ("porn",)})
    assert spans(check, "an alternative analysis") == []
    assert spans(check, "Sussex and essex") == []
    assert spans(check, "S E X") == [("porn", "S E X")]
    assert spans(check, "no sex.") == [("porn", "sex")]


def test_longest_hit_wins_over_contained_words():
    check = LexiconCheck(words={"法轮": ("politics",), "法轮功": ("politics",)})
    assert spans(check, "法轮功") == [("politics", "法轮功")]


@pytest.mark.parametrize(
    "content, line, what",
    [
        ("赌博\t3\n冰毒\t7\n", 2, "unknown tag code"),
        ("赌博\t3\n\n冰毒\t1,,2\n", 3, "unknown tag code"),
        ("赌博\tgambling\n冰毒\tnarcotics\n", 2, "unknown tag code"),
        ("赌博\t\n", 1, "after the TAB"),
        ("# fenghuo-lexicon: tagged\n赌博 3\n冰毒\n", 3, "expected `word tag"),
        ("# fenghuo-lexicon: maybe\n赌博\n", 1, "expected 'tagged' or 'words'"),
        ("".join(f"词{i} 3\n" for i in range(20)) + "词x 9\n", 21, "this one is not"),
        ("".join(f"词{i} 3\n" for i in range(20)) + "无标签\n", 21, "this one is not"),
        ("赌博\n\xff\n", 2, "not UTF-8"),
    ],
)
def test_malformed_lexicon_is_refused_with_its_line(tmp_path, content, line, what):
    f = tmp_path / "bad.txt"
    f.write_bytes(content.encode("utf-8", "surrogateescape") if "\xff" not in content else content.replace("\xff", "").encode() + b"\xff\n")
    if "\xff" in content:
        f.write_bytes("赌博\n".encode() + b"\xff\n")
    with pytest.raises(LexiconError, match=rf"bad.txt:{line}: .*{what}"):
        read_lexicon(f)


def test_empty_lexicon_is_refused(tmp_path):
    with pytest.raises(LexiconError, match="empty"):
        LexiconCheck(files=[write(tmp_path / "e.txt", "\n# only a comment\n")])
    with pytest.raises(LexiconError, match="e2.txt:1: .*empty after normalisation"):
        LexiconCheck(files=[write(tmp_path / "e2.txt", "***\n")])


def test_reload_without_restart(tmp_path):
    f = write(tmp_path / "lex.txt", "赌博\tgambling\n")
    check = LexiconCheck(files=[f])
    assert spans(check, "赌博 冰毒") == [("gambling", "赌博")]
    assert check.reload_if_changed() is False  # nothing changed yet
    write(f, "冰毒\tdrugs\n")
    assert check.reload_if_changed() is True
    assert spans(check, "赌博 冰毒") == [("drugs", "冰毒")]
    assert check.reload_if_changed() is False
    write(f, "bad\t9\n")  # a broken edit keeps the last good lexicon
    with pytest.raises(LexiconError, match="lex.txt:1: unknown tag"):
        check.reload()
    assert spans(check, "冰毒") == [("drugs", "冰毒")]


def _wait_for(cond, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_auto_reload_compiles_in_the_background_and_survives_a_broken_file(tmp_path, caplog):
    f = write(tmp_path / "lex.txt", "赌博\tgambling\n")
    check = LexiconCheck(files=[f])
    check.reload_interval = 0.001
    write(f, "冰毒\tdrugs\n")
    time.sleep(0.01)
    old_state = check._state
    spans(check, "赌博")  # this scan notices the change and starts the background compile
    assert check._reloader is not None
    check._reloader.join(30)
    assert check._state is not old_state
    assert spans(check, "赌博 冰毒") == [("drugs", "冰毒")]

    write(f, "冰毒\tdrugs\n赌博\tno_such_category\n")
    time.sleep(0.01)
    with caplog.at_level("ERROR", logger="fenghuo.checks.lexicon"):
        before = check._reloader
        spans(check, "冰毒")
        assert check._reloader is not before
        check._reloader.join(30)
    assert spans(check, "赌博 冰毒") == [("drugs", "冰毒")]  # the old lexicon keeps serving
    assert "lex.txt:2: unknown tag" in check.last_reload_error
    assert any("reload failed" in r.getMessage() and "lex.txt:2" in r.getMessage() for r in caplog.records)
    # The same broken version is not recompiled on every interval...
    time.sleep(0.01)
    spans(check, "冰毒")
    assert check.reload_in_background() is None
    # ...but a fixed file is picked up.
    write(f, "赌博\tgambling\n")
    time.sleep(0.01)
    spans(check, "冰毒")
    assert _wait_for(lambda: spans(check, "赌博 冰毒") == [("gambling", "赌博")])
    assert check.last_reload_error is None


def test_pipeline_reload_rereads_lexicon_files(tmp_path):
    from fenghuo.checks.pipeline import load_pipeline

    words = write(tmp_path / "w.txt", "自定义词\tcrime\n")
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: lexicon, files: [w.txt]}\n")
    p = load_pipeline(cfg)
    assert p.scan("自定义词 新词").categories == ["crime"]
    write(words, "新词\tgambling\n")
    p.reload()
    v = p.scan("自定义词 新词")
    assert [(f.category, f.start) for f in v.findings] == [("gambling", 5)]


def test_multi_word_entries_ending_in_a_tag_name_or_number_are_words(tmp_path):
    f = write(tmp_path / "words.txt", "domestic violence\nwin 3\nak 47\n赌博\n")
    entries = read_lexicon(f, None, set(Policy().rules))  # `violence` is a known category
    assert [(e.word, e.categories) for e in entries] == [
        ("domestic violence", ()), ("win 3", ()), ("ak 47", ()), ("赌博", ()),
    ]
    check = LexiconCheck(files=[f])
    assert spans(check, "stop domestic violence, win 3 times with an ak 47") == [
        ("sensitive", "domestic violence"), ("sensitive", "win 3"), ("sensitive", "ak 47"),
    ]
    assert spans(check, "domestic chores, ak47, domest icviolence") == [("sensitive", "ak47")]


def test_tab_tags_work_in_any_file_and_the_header_decides_the_space_form(tmp_path):
    f = write(tmp_path / "t.txt", "domestic violence\tviolence\nwin 3\n赌博\t3,crime\n")
    assert [(e.word, e.categories) for e in read_lexicon(f, None, set(Policy().rules))] == [
        ("domestic violence", ("violence",)), ("win 3", ()), ("赌博", ("gambling", "crime")),
    ]
    # Every line ends in a known tag: the shared lexicon's tag-file form.
    uniform = write(tmp_path / "u.txt", "赌博 3\n冰毒 1,4\nmake love 2\n")
    assert [(e.word, e.categories) for e in read_lexicon(uniform)] == [
        ("赌博", ("gambling",)), ("冰毒", ("drugs", "crime")), ("make love", ("porn",)),
    ]
    words = write(tmp_path / "w.txt", "# fenghuo-lexicon: words\nwin 3\nstage 2\n")
    assert [(e.word, e.categories) for e in read_lexicon(words)] == [("win 3", ()), ("stage 2", ())]
    tagged = write(tmp_path / "g.txt", "# fenghuo-lexicon: tagged\ndomestic violence crime\n")
    assert [(e.word, e.categories) for e in read_lexicon(tagged)] == [("domestic violence", ("crime",))]


def test_a_word_list_with_tag_like_endings_is_read_as_words_with_a_warning(tmp_path, caplog):
    f = write(tmp_path / "w.txt", "赌博 3\n冰毒 99\n普通词\n")
    with caplog.at_level("WARNING", logger="fenghuo.checks.lexicon"):
        entries = read_lexicon(f)
    assert [e.word for e in entries] == ["赌博 3", "冰毒 99", "普通词"]
    assert "separate tags with a TAB" in caplog.text and "line 1" in caplog.text


def test_shared_lexicon_files_parse_as_before(shared):
    """The real shared files: the dict file is plain words, the tag file `word code[,code]`."""
    from collections import Counter

    lx = shared / "lexicon"
    words = read_lexicon(lx / "sensitive_word_dict.txt")
    tags = read_lexicon(lx / "sensitive_word_tags.txt")
    assert len(words) == 64420 and all(not e.categories for e in words)
    assert len(tags) == 43768 and all(e.categories and " " not in e.word[-1:] for e in tags)
    counts = Counter(c for e in tags for c in e.categories)
    assert counts == {"crime": 27519, "porn": 15090, "drugs": 4711, "politics": 2029, "gambling": 872}


def test_ten_megabyte_single_line_scans_in_linear_time():
    check = LexiconCheck(words={"赌博": ("gambling",)}, allow=["赌博机"])
    unit = "今天天气很好*我们去赌 博然后赌博机" * 10
    small, big = unit * 200, unit * 20000  # ~0.1 MB and ~10 MB (UTF-8), one line
    assert len(big.encode()) >= 10_000_000
    # Process CPU time, not wall time, so other work on a shared machine does not count; the
    # small scan takes milliseconds, so take the median of five.
    times = []
    for _ in range(5):
        t0 = time.process_time()
        n_small = len(check.scan(small).findings)
        times.append(time.process_time() - t0)
    t_small = sorted(times)[2]
    t0 = time.process_time()
    n_big = len(check.scan(big).findings)
    t_big = time.process_time() - t0
    assert n_big == 100 * n_small == 100 * 2000
    # 100× the text: linear is ~100×, quadratic would be ~10,000×; the bound sits between.
    assert t_big < 2000 * max(t_small, 1e-3)


def test_shared_lexicon_loads_and_finds_evasions(shared_lexicon):
    assert len(shared_lexicon) > 60000
    found = spans(shared_lexicon, "我想去賭 博")
    assert ("gambling", "賭 博") in found


def test_stats_against_tc260_minimums(shared_lexicon):
    stats = shared_lexicon.stats()
    rows = {r[0]: r for r in stats.rows}
    assert stats.total > 10000 and rows["total words / 总词数"][3]
    assert rows["A1f (A.1)"][1] == stats.by_category["porn"]  # porn → A1f by default
    assert not rows["A2a (A.2)"][3]  # the shared lexicon has no discrimination words
    assert not stats.ok


def test_tab_lines_do_not_untag_a_space_tagged_file(tmp_path, caplog):
    """Review: one `word<TAB>tag` line appended to a space-tagged file made every other line a
    plain word, silently. TAB lines are unambiguous; the space lines are judged on their own."""
    body = "".join(f"词{i} {i % 5}\n" for i in range(12))
    f = write(tmp_path / "t.txt", body + "新词\t3\n")
    with caplog.at_level("WARNING", logger="fenghuo.checks.lexicon"):
        entries = read_lexicon(f)
    assert [(e.word, e.categories) for e in entries][:2] == [("词0", ("politics",)), ("词1", ("drugs",))]
    assert all(e.categories for e in entries) and entries[-1].word == "新词" and not caplog.text
    # The ≥ 90 % refusal still applies to the space lines when a TAB line is present.
    broken = write(tmp_path / "b.txt", "新词\t3\n" + body + "坏词 77\n")
    with pytest.raises(LexiconError, match=r"b.txt:14: 13 of 13 lines are `word tag` but this one is not"):
        read_lexicon(broken)
    # A few tag-like space lines next to TAB lines stay words, with the warning.
    few = write(tmp_path / "f.txt", "新词\t3\nwin 3\n")
    with caplog.at_level("WARNING", logger="fenghuo.checks.lexicon"):
        assert [(e.word, e.categories) for e in read_lexicon(few)] == [("新词", ("gambling",)), ("win 3", ())]
    assert "separate tags with a TAB" in caplog.text and "line 2" in caplog.text


def test_shared_tag_file_with_an_appended_tab_line_stays_tagged(shared, tmp_path):
    src = (shared / "lexicon" / "sensitive_word_tags.txt").read_text(encoding="utf-8")
    f = write(tmp_path / "tags.txt", src.rstrip("\n") + "\n新词\t3\n")
    entries = read_lexicon(f)
    assert len(entries) == 43769 and all(e.categories for e in entries)
    assert entries[-1].word == "新词" and entries[-1].categories == ("gambling",)


def test_a_file_replaced_while_it_is_read_is_not_kept_stale(tmp_path, monkeypatch):
    """Review: the signature was taken after reading, so a file replaced between the read and
    the stat kept the old words under the new signature and never reloaded. The replacement is
    injected around the real reader (an editor saving right after our read)."""
    import os

    import fenghuo.checks.lexicon as lexicon_mod

    f = write(tmp_path / "w.txt", "赌博\n")
    check = LexiconCheck(files=[f])
    real = lexicon_mod.read_lexicon
    replaced = []

    def read_then_replace(path, *a, **k):
        out = real(path, *a, **k)
        if not replaced:
            replaced.append(1)
            tmp = tmp_path / "w.new"
            tmp.write_text("赌博\n冰毒\n", encoding="utf-8")
            os.replace(tmp, f)
        return out

    time.sleep(0.01)
    write(f, "赌博\n大麻\n")
    monkeypatch.setattr(lexicon_mod, "read_lexicon", read_then_replace)
    check.reload_in_background().join(30)
    monkeypatch.setattr(lexicon_mod, "read_lexicon", real)
    assert replaced and check.last_reload_error is None
    assert [x.rule for x in check.scan("买冰毒 大麻").findings] == ["lexicon:冰毒"]
    assert check.changed() is False


def test_reload_if_changed_raises_after_a_failed_background_reload(tmp_path):
    """Review: a version a background reload failed on was skipped by ``changed()``, so the
    synchronous ``reload_if_changed()`` returned False instead of raising as documented."""
    f = write(tmp_path / "w.txt", "赌博\t3\n")
    check = LexiconCheck(files=[f])
    time.sleep(0.01)
    write(f, "赌博\t99\n")
    check.reload_in_background().join(30)
    assert "unknown tag" in check.last_reload_error
    assert check.reload_in_background() is None  # the background path still skips it
    with pytest.raises(LexiconError, match="w.txt:1: unknown tag"):
        check.reload_if_changed()
    assert spans(check, "赌博") == [("gambling", "赌博")]
