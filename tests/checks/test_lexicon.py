import time

import pytest

from fenghuo.checks.base import Action
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.lexicon_file import LexiconError, read_lexicon

from .conftest import write


def spans(check, text):
    return [(f.category, text[f.start : f.end]) for f in check.scan(text).findings]


def test_tagged_file_maps_codes_to_categories_and_actions(tmp_path):
    f = write(tmp_path / "lex.txt", "赌博 3\n冰毒 1,4\n# comment\n\n普通词\n")
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
        ("赌博 3\n冰毒 7\n", 2, "unknown tag code"),
        ("赌博 3\n\n冰毒 1,,2\n", 3, "unknown tag code"),
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
    f = write(tmp_path / "lex.txt", "赌博 gambling\n")
    check = LexiconCheck(files=[f])
    assert spans(check, "赌博 冰毒") == [("gambling", "赌博")]
    write(f, "冰毒 drugs\n")
    assert check.reload_if_changed() or (check.reload() is None)
    assert spans(check, "赌博 冰毒") == [("drugs", "冰毒")]
    write(f, "bad 9\n")  # a broken edit keeps the last good lexicon
    with pytest.raises(LexiconError):
        check.reload()
    assert spans(check, "冰毒") == [("drugs", "冰毒")]


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
