"""Character-bigram overlap: telling a repeated complaint from one that adds information."""

from __future__ import annotations

from anfu.text.overlap import RepeatTracker, best_repeat, bigrams, containment, content, novelty

FIRST = "我家停电两天了，冰箱里的东西全坏了！"
AGAIN = "停电两天了，冰箱里东西全坏了！！"
NEW = "抢修师傅几点能到？我下午要出门。"


def test_content_and_bigrams_ignore_punctuation() -> None:
    assert content("停电了！！ 怎么办？") == "停电了怎么办"
    assert bigrams("停电！") == {"停电"}
    assert bigrams("嗯。") == {"嗯"}
    assert bigrams("！！") == set()


def test_repeat_versus_new_information() -> None:
    assert containment(AGAIN, FIRST) > 0.8
    assert containment(NEW, FIRST) == 0.0
    assert novelty(AGAIN, [FIRST]) < 0.2 and novelty(NEW, [FIRST]) == 1.0
    assert best_repeat(AGAIN, [NEW, FIRST]) == (1, containment(AGAIN, FIRST))
    assert best_repeat(AGAIN, []) == (-1, 0.0)


def test_tracker_matches_the_plain_functions() -> None:
    tracker = RepeatTracker()
    assert tracker.best(FIRST) == (-1, 0.0, 1.0)
    tracker.add(NEW)
    tracker.add(FIRST)
    at, share, new = tracker.best(AGAIN)
    assert (at, share) == best_repeat(AGAIN, [NEW, FIRST])
    assert new == novelty(AGAIN, [NEW, FIRST])


def test_mentions_are_not_content() -> None:
    assert content("感谢@中国联通黑龙江客服 的帮助") == "感谢的帮助"
    assert containment("感谢@中国联通黑龙江客服 的帮助", "@中国联通黑龙江客服 宽带又断了") == 0.0
