"""A conversation's next turn is checked incrementally (guard.input_verdicts.InputVerdicts): only the
texts added since an earlier call are scanned, with findings equal to a whole scan's."""

from __future__ import annotations

import time

import httpx
import pytest

from fenghuo.checks.base import Verdict
from fenghuo.guard.checking import check_text, load_default_checks, mask
from fenghuo.guard.input_verdicts import InputVerdicts

from .helpers import WordCheck


class Counting(WordCheck):
    """The test's word check, recording every text it was asked to scan."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.texts: list[str] = []
        self.sig = (1, 1)

    def scan(self, text: str) -> Verdict:
        self.texts.append(text)
        return super().scan(text)

    def _loaded_signatures(self):  # what a reloading check (lexicon, classifier) offers
        return self.sig


def spans(v: Verdict) -> list[tuple]:
    return [(f.category, f.start, f.end, f.rule) for f in v.findings]


TURNS = ["你是一个乐于助人的助手。" * 30, "我想了解网络赌场的危害。", "网络赌场会让人倾家荡产。" * 10, "我的电话是13812345678，请回电。",
         "好的，我会联系你。" * 20, "冰毒是什么？"]


def test_each_next_turn_scans_only_the_new_texts_and_finds_what_a_whole_scan_finds():
    check = Counting()
    iv = InputVerdicts(check, overlap=16)
    for n in range(1, len(TURNS) + 1):
        parts = TURNS[:n]
        check.texts.clear()
        job = iv.job(parts)
        got = job.run()
        whole = check_text(WordCheck(), "\n".join(parts))
        assert spans(got.verdict) == spans(whole.verdict), n
        assert got.text == whole.text and got.blocked == whole.blocked
        (scanned,) = check.texts
        if n == 1:
            assert scanned == parts[0]
        else:  # the new turn with 16 characters of what came before, not the history
            assert scanned == "\n".join(parts)[-(len(parts[-1]) + 1 + 16):]
            assert job.scan_chars == len(scanned)
    assert iv.stats["whole"] == 1 and iv.stats["prefix"] == len(TURNS) - 1


def test_a_repeat_scans_nothing_and_a_changed_turn_rescans_from_it():
    check = Counting()
    iv = InputVerdicts(check, overlap=16)
    first = iv.job(TURNS[:4]).run()
    check.texts.clear()
    again = iv.job(TURNS[:4])
    assert again.scan_chars == 0
    assert spans(again.run().verdict) == spans(first.verdict) and check.texts == []
    edited = [*TURNS[:2], "我的电话是13900001111。", TURNS[3]]  # the third turn edited: no call sent these two
    job = iv.job(edited)
    got = job.run()
    assert check.texts == ["\n".join(edited)] and job.scan_chars == len("\n".join(edited))
    assert spans(got.verdict) == spans(check_text(WordCheck(), "\n".join(edited)).verdict)


def test_a_finding_across_the_boundary_is_found():
    # A pattern that spans the newline between two texts: the overlap rescans the end of the
    # earlier text with the new one.
    check = Counting(block=("场\n冰",))
    iv = InputVerdicts(check, overlap=16)
    assert iv.job(["网络赌场"]).run().verdict.findings == []
    got = iv.job(["网络赌场", "冰毒"]).run()
    assert spans(got.verdict) == [("drugs", 3, 6, "场\n冰")] and got.blocked


def test_a_reloaded_check_or_a_failed_scan_is_not_reused():
    check = Counting()
    iv = InputVerdicts(check, overlap=16)
    iv.job(TURNS[:2]).run()
    check.sig = (2, 1)  # the lexicon file changed and was reloaded
    time.sleep(InputVerdicts.VERSION_SECONDS)  # the version is read again at most this often
    check.texts.clear()
    iv.job(TURNS[:3]).run()
    assert check.texts == ["\n".join(TURNS[:3])]

    class Failing(Counting):
        def scan(self, text: str) -> Verdict:
            self.texts.append(text)
            return Verdict([], 0.0, ("x",), ["x: RuntimeError: down"])

    bad = Failing()
    iv = InputVerdicts(bad, overlap=16)
    iv.job(TURNS[:2]).run()
    bad.texts.clear()
    iv.job(TURNS[:3]).run()
    assert bad.texts == ["\n".join(TURNS[:3])]  # the failed verdict was not kept


def test_the_cache_is_bounded():
    iv = InputVerdicts(Counting(), size=3, overlap=16)
    for i in range(10):
        iv.job([f"第{i}句话" * 5]).run()  # longer than the overlap: kept
    assert len(iv._lru) == 3


def test_an_input_within_reach_is_scanned_whole_and_not_kept():
    """Nothing known of an input no longer than ``reach`` can shorten its scan, so it is
    neither looked up nor kept; its repeat and its next turn find what a whole scan finds."""
    check = Counting()
    iv = InputVerdicts(check, overlap=16)
    short = ["我想了解网络赌场的危害。"]  # 12 characters
    first = iv.job(short)
    assert first.scan_chars == 12 and spans(first.run().verdict) == spans(check_text(WordCheck(), short[0]).verdict)
    assert iv._lru == {} and iv.stats["whole"] == 1
    check.texts.clear()
    again = iv.job(short)
    assert again.scan_chars == 12 and spans(again.run().verdict) == spans(first.run().verdict) and check.texts == [short[0]] * 2
    parts = [*short, "冰毒"]  # 15 characters joined: still within reach, scanned whole
    got = iv.job(parts).run()
    assert check.texts[-1] == "\n".join(parts) and spans(got.verdict) == spans(check_text(WordCheck(), "\n".join(parts)).verdict)
    assert got.scanned == "\n".join(parts) and iv._lru == {}
    longer = [*parts, "好的，我会联系你。"]  # 25 characters: kept, and its repeat scans nothing
    iv.job(longer).run()
    assert len(iv._lru) == 1 and iv.job(longer).scan_chars == 0
    assert iv.stats == {"calls": 5, "whole": 5, "prefix": 0, "repeat": 0, "chars": 12 * 3 + 15 + 25, "scanned": 12 * 3 + 15 + 25}


def test_the_packaged_pipeline_finds_the_same_words_and_personal_data_incrementally():
    checks = load_default_checks()
    if checks is None:
        pytest.skip("no check pipeline")
    iv = InputVerdicts(checks)
    whole_scorer = {c.name for c in checks.checks if hasattr(c, "scores_in")}
    for n in range(1, len(TURNS) + 1):
        parts = TURNS[:n]
        got = iv.job(parts).run()
        whole = checks.scan("\n".join(parts))
        # A check that scores a whole text (the classifier) scores the new part on a hit; every
        # other finding is the same, at the same offsets.
        keep = [s for s in spans(got.verdict) if not any(s[3].startswith(w) for w in whole_scorer)]
        want = [s for s in spans(whole) if not any(s[3].startswith(w) for w in whole_scorer)]
        assert sorted(keep) == sorted(want), n


def test_mask_merges_overlapping_spans():
    from fenghuo.checks.base import Action, Finding

    fs = [Finding("pii", 2, 6, "a", Action.MASK), Finding("pii", 4, 8, "b", Action.MASK), Finding("x", 0, 1, "c", Action.BLOCK)]
    assert mask("0123456789", fs) == "01******89"
    assert mask("0123456789", fs, base=5) == "***3456789"


def test_the_gateway_checks_a_conversations_next_turn_incrementally(make_gateway, upstream):
    check = Counting()
    gw, srv = make_gateway(checks=check)
    turns = [TURNS[0], "今天天气不错。", TURNS[3], "好的，谢谢。"]  # nothing blocked: every call reaches the model
    msgs = [{"role": "user", "content": turns[0]}]
    for turn in turns[1:]:
        r = httpx.post(f"{srv.url}/v1/chat/completions", timeout=30, json={"model": "primary-model", "messages": msgs})
        assert r.status_code == 200, r.text
        msgs = [*msgs, {"role": "assistant", "content": r.json()["choices"][0]["message"]["content"]},
                {"role": "user", "content": turn}]
    check.texts.clear()
    r = httpx.post(f"{srv.url}/v1/chat/completions", timeout=30, json={"model": "primary-model", "messages": msgs})
    assert r.status_code == 200
    # The input scan covered the last two texts (and the overlap), not the whole history.
    joined = "\n".join(m["content"] for m in msgs)
    new = len(msgs[-2]["content"]) + 1 + len(msgs[-1]["content"])
    assert check.texts[0] == joined[-(new + 1 + gw.guard.input_verdicts.reach):]
    # The phone number in the third turn is still masked before the history reaches the model.
    sent = upstream.app.state.seen[-1]["messages"]
    assert "13812345678" not in str(sent) and "***********" in str(sent)
    assert gw.guard.input_verdicts.stats["prefix"] >= 3
