from __future__ import annotations

import pickle
import random

from anfu.text.matcher import Match, PhraseMatcher, clause_bounds, longest_non_overlapping
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


def _reference_longest(matches: list[Match]) -> list[Match]:
    """The plain quadratic choice `longest_non_overlapping` must equal: longest first, then leftmost."""
    chosen: list[Match] = []
    for m in sorted(matches, key=lambda x: (x.start - x.end, x.start)):
        if all(not (m.end > c.start and m.start < c.end) for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda x: x.start)


def test_longest_non_overlapping_equals_the_plain_choice_on_random_spans() -> None:
    rng = random.Random(16)
    for _ in range(500):
        spans = []
        for _ in range(rng.randint(0, 30)):
            start = rng.randint(0, 40)
            spans.append(Match(start, start + rng.randint(1, 8), "x", ""))
        assert longest_non_overlapping(spans) == _reference_longest(spans)


def test_a_turn_of_one_word_repeated_keeps_every_occurrence() -> None:
    """"投诉" 5,000 times: each occurrence kept once (the choice checks neighbours, not all)."""
    m = PhraseMatcher()
    m.add("投诉", "x")
    kept = longest_non_overlapping(m.find("投诉" * 5000))
    assert len(kept) == 5000 and kept[-1].start == 9998


def test_invisible_characters_inside_a_word_do_not_hide_it() -> None:
    """Zero-width spaces, a soft hyphen, a word joiner inside a phrase or a regex's match: found,
    with offsets into the text as given (the invisible characters inside the span)."""
    m = PhraseMatcher()
    m.add("投诉", "complaint")
    m.add_regex(r"找(你们)?(领导|经理)", "superior")
    text = normalize("再不修我就\u200b投\u00ad诉，还要找你\u2060们领导")
    found = {x.payload: (x.start, x.end, x.text) for x in m.find(text)}
    start, end, word = found["complaint"]
    assert (text[start:end], word) == ("投\u00ad诉", "投诉")
    start, end, word = found["superior"]
    assert (text[start:end], word) == ("找你\u2060们领导", "找你们领导")
    assert {x.payload for x in m.find(normalize("投诉"))} == {"complaint"}  # the plain path unchanged
