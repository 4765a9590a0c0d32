"""Regex prefilter: required literals, and `PhraseMatcher.find` equal to running every regex."""

from __future__ import annotations

import pickle
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from anfu.text.matcher import Match, PhraseMatcher
from anfu.text.prefilter import literal_index, required_literals

# patterns of the kinds the rule packs use: lookarounds, optional parts, classes, anchors,
# branches with a shared prefix, lazy gaps, and some that no literal can filter
PATTERNS = [
    r"找(你们)?(领导|经理)",
    r"(?<![0-9])(?:12315|12345)(?![0-9])",
    r"(?:去|找|打)315",
    r"(?<!多|流)媒体",
    r"都(?:[一二三\d]+)(?:个)?(?:小时|天)了",
    r"[！!]{3,}",
    r"^(?:请|麻烦)[^！？]*谢谢$",
    r"(?:唉|哎)+[，。…]",
    r"[^，。]{0,3}吧",
    r"傻[\s*_]{0,3}逼",
    r".{2}投诉",
    r"(?i)sb",
    r"\d+块",
    r"(?:算了|罢了)?",
]
# texts are made of fragments of those patterns, so that matches are frequent
FRAGMENTS = ["找", "你们", "领导", "经理", "去", "打", "315", "12315", "12345", "1", "多", "流", "媒体", "都", "三",
             "个", "小时", "天", "了", "！", "!", "请", "麻烦", "谢谢", "唉", "哎", "，", "。", "…", "吧", "傻",
             " ", "*", "逼", "投诉", "SB", "sb", "块", "算了", "罢了", "a"]


def brute_force(matcher: PhraseMatcher, norm: str) -> list[tuple[int, int, object]]:
    out = [(m.start(), m.end(), payload) for rx, payload in matcher._regexes
           for m in rx.finditer(norm) if m.end() > m.start()]
    for phrase, payload in matcher._phrases:
        start = norm.find(phrase)
        while start >= 0:
            out.append((start, start + len(phrase), payload))
            start = norm.find(phrase, start + 1)
    return sorted(out, key=repr)


def build() -> PhraseMatcher:
    matcher = PhraseMatcher()
    for i, pattern in enumerate(PATTERNS):
        matcher.add_regex(pattern, f"rx{i}")
    matcher.extend(["投诉", "领导", "谢谢"], "phrase")
    return matcher


MATCHER = build()


def test_required_literals_of_typical_patterns() -> None:
    assert required_literals(re.compile(r"找(你们)?(领导|经理)")) == {"领导", "经理"}
    assert required_literals(re.compile(r"(?<![0-9])(?:12315|12345)")) == {"123"}
    assert required_literals(re.compile(r"[！!]{3,}")) == {"！", "!"}
    assert required_literals(re.compile(r"[^，。]{0,3}吧")) == {"吧"}
    # nothing every match must contain, or case folding: always run
    for pattern in (r".{2}", r"(?i)sb", r"(?:算了|罢了)?", r"\d+", r"[一-龥]+"):
        assert required_literals(re.compile(pattern)) is None, pattern
    always, literals = literal_index([re.compile(p) for p in PATTERNS])
    assert [PATTERNS[i] for i in always] == [r"(?i)sb", r"(?:算了|罢了)?"]
    assert literals["块"] == (PATTERNS.index(r"\d+块"),)
    assert literals["投诉"] == (PATTERNS.index(r".{2}投诉"),)


def test_find_equals_running_every_regex_on_service_text() -> None:
    text = "都三个小时了！！！再不来我就去315，找你们领导！傻*逼，算了吧。请帮我查一下谢谢"
    got = sorted(((m.start, m.end, m.payload) for m in MATCHER.find(text)), key=repr)
    assert got == brute_force(MATCHER, text)
    assert {"rx0", "rx2", "rx4", "rx5", "rx9", "phrase"} <= {payload for _, _, payload in got}
    assert MATCHER.find("今天天气不错") == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_find_never_misses_a_regex_match(text: str) -> None:
    got = sorted(((m.start, m.end, m.payload) for m in MATCHER.find(text)), key=repr)
    assert got == brute_force(MATCHER, text)


def test_order_and_pickle() -> None:
    text = "找你们领导投诉，都一个小时了"
    found = MATCHER.find(text)
    assert found == sorted(found, key=lambda m: (m.start, -(m.end - m.start)))
    assert all(isinstance(m, Match) for m in found)
    clone = pickle.loads(pickle.dumps(MATCHER))
    assert clone.find(text) == found
    clone.add_regex(r"一个小时", "added")  # a pattern added later is found too
    assert "added" in {m.payload for m in clone.find(text)}
