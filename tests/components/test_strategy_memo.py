"""The strategy's memo of pre-send verdicts: the same suggestions, far fewer checks."""

from __future__ import annotations

import pickle

from anfu.components.strategy import CheckMemo, Strategy
from anfu.qa import check_reply
from anfu.types import Assessment, Conversation

TURNS = [
    ("customer", "停电三天了还没人来修，家里老人热得受不了，你们到底管不管？"),
    ("agent", "非常抱歉给您带来不便，我马上为您查询抢修进度。"),
    ("customer", "再不来人我就打12345投诉！"),
    ("agent", "这个不归我们管，你自己去问吧。"),
    ("customer", "好的，那我再等等，麻烦你们尽快处理。"),
]


def windows() -> list[Assessment]:
    """Every growing window of the conversation, labelled by the full pipeline up to strategy."""
    import anfu

    analyzer = anfu.load()
    upstream = [c for c in analyzer.components if c.name != "anfu.strategy.v1"]
    out = []
    for end in range(1, len(TURNS) + 1):
        doc = Assessment.start(Conversation.from_texts(TURNS[:end], id="memo", industry="power"))
        for component in upstream:
            component(doc)
        out.append(doc)
    return out


def suggestions(strategy: Strategy, doc: Assessment) -> list:
    copy = pickle.loads(pickle.dumps(doc))
    strategy(copy)
    return copy.suggestions


def test_memo_gives_the_suggestions_of_the_check_itself() -> None:
    docs = windows()
    remembered = Strategy()
    for _ in range(2):  # the second round is answered from the memo
        for doc in docs:
            fresh = Strategy()  # a new, empty memo every time
            assert suggestions(remembered, doc) == suggestions(fresh, doc)
    assert len(remembered.check_memo_) > 0
    assert all(suggestions(remembered, doc) for doc in docs[1:])


def test_each_text_is_checked_once_and_a_violation_keeps_its_context() -> None:
    calls: list[tuple[str, tuple]] = []

    def counting(text, context=None):  # noqa: ANN001, ANN202
        calls.append((text, tuple(sorted((context or {}).items()))))
        return check_reply(text, context)

    memo = CheckMemo(size=8)
    check = memo.wrap(counting)
    clean = "您好，非常理解您的心情，我马上为您查询。"
    bad = "这个不归我们管，你自己去问吧。"
    calm = {"cause": "outage", "emotion": "anxious", "customer_text": "停电了", "what": "停电", "when": "2小时内"}
    angry = {**calm, "emotion": "angry"}
    for _ in range(3):
        assert check(clean, calm).violation is False
        assert check(clean, angry).violation is False  # a clean verdict does not depend on context
    assert len(calls) == 1
    first, second = check(bad, calm), check(bad, angry)
    assert first.violation and second.violation
    assert first.rewrite == check_reply(bad, calm).rewrite and second.rewrite == check_reply(bad, angry).rewrite
    check(bad, calm)
    assert len(calls) == 3  # one per context for the violating text
    for i in range(20):  # bounded: the least recently used go first
        check(f"好的，我这边第{i}次为您核实。", calm)
    assert len(memo) == 8
    # another checker: nothing remembered applies to it
    other = memo.wrap(check_reply)
    assert len(memo) == 0 and other(clean, calm).violation is False


def test_memo_pickles_empty() -> None:
    memo = CheckMemo(size=16)
    memo.wrap(check_reply)("您好，请问有什么可以帮您？", None)
    clone = pickle.loads(pickle.dumps(memo))
    assert len(memo) == 1 and len(clone) == 0 and clone.size == 16
    assert clone.wrap(check_reply)("您好，请问有什么可以帮您？", None).violation is False
