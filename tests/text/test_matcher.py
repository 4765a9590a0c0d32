from __future__ import annotations

import pickle

from anfu.text.matcher import PhraseMatcher, clause_bounds, longest_non_overlapping
from anfu.text.normalize import normalize


def test_phrases_and_regexes_with_offsets() -> None:
    m = PhraseMatcher()
    m.add("投訴", "complaint")  # Traditional in the rule still matches Simplified text
    m.add("12345", "hotline")
    m.add_regex(r"找(你们)?(领导|经理)", "superior")
    text = normalize("再不修我就打12345投诉，还要找你们领导")
    found = {(x.payload, x.text) for x in m.find(text)}
    assert found == {("complaint", "投诉"), ("hotline", "12345"), ("superior", "找你们领导")}
    hit = next(x for x in m.find(text) if x.payload == "complaint")
    assert text[hit.start:hit.end] == "投诉"


def test_pickle_and_overlaps() -> None:
    m = PhraseMatcher()
    m.extend(["投诉", "投诉电话"], "x")
    m.find("投诉电话是多少")
    clone = pickle.loads(pickle.dumps(m))
    kept = longest_non_overlapping(clone.find("投诉电话是多少"))
    assert [k.text for k in kept] == ["投诉电话"]


def test_clause_bounds() -> None:
    text = "我不是要投诉，就想问问电费"
    assert text[slice(*clause_bounds(text, 4, 6))] == "我不是要投诉"


def test_remembered_texts_give_the_same_matches_and_a_new_pattern_forgets_them() -> None:
    """A live window meets the same turns at every turn: `find` remembers their matches, hands
    each caller its own list, and forgets them when a pattern is added."""
    m = PhraseMatcher()
    m.add("投诉", "complaint")
    text = normalize("停电三天了，再不修我就投诉到12345")
    first = m.find(text)
    first.append("a caller's own change")
    again = m.find(text)
    assert [(x.payload, x.text) for x in again] == [("complaint", "投诉")]
    m.add_regex(r"12345", "hotline")
    assert {x.payload for x in m.find(text)} == {"complaint", "hotline"}
    assert pickle.loads(pickle.dumps(m)).find(text) == m.find(text)
