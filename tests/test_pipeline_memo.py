"""The Analyzer's turn memo: the live service analyses a sliding window per new turn; with
the memo, turns already analysed are copied instead of recomputed, and every result must be
exactly what the analysis without the memo gives."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from anfu import Conversation
from anfu.demo import demo_conversations
from anfu.qa.context import CONTEXT_TURNS
from anfu.types import Utterance

WINDOW = 16
# A long chat: repeated customer lines (as people repeat themselves), agent replies with and
# without forbidden phrases (服务忌语), so the pre-send rewrite reads the customer turn before.
CHAT = [
    ("customer", "停电四个小时了，冰箱里的东西都化了，你们到底什么时候来修？"),
    ("agent", "您好，非常抱歉给您带来不便，我马上为您查询抢修进度。"),
    ("customer", "上次也是这么说的，结果等了一整天！"),
    ("agent", "这个不归我们管，你自己去找物业吧。"),
    ("customer", "你什么态度？我要打12398投诉你们！"),
    ("agent", "非常理解您的心情，抢修班组已经出发，预计两小时内到达。"),
    ("customer", "停电四个小时了，冰箱里的东西都化了，你们到底什么时候来修？"),
    ("agent", "这个不归我们管，你自己去找物业吧。"),
    ("customer", "好吧，那我再等等，麻烦尽快。"),
    ("agent", "好的，处理结果我会在今天下班前回电告知您。"),
    ("customer", "电费单上还多收了两百块，一起给我查清楚！"),
    ("agent", "请您稍等，我核实一下账单明细。"),
]


def _plain(analyzer: Any) -> Any:
    """The same analyzer (same components) without the memo."""
    off = copy.copy(analyzer)
    off.turn_memo = 0
    return off


def _windows(conversation: Conversation) -> list[Conversation]:
    turns = conversation.turns
    return [Conversation(turns=turns[max(0, n - WINDOW):n], id=conversation.id, channel=conversation.channel,
                         industry=conversation.industry) for n in range(1, len(turns) + 1)]


def _result(assessment: Any) -> tuple[Any, Any]:
    return assessment.to_dict(), (assessment.cause, [e.to_dict() for e in assessment.events])


def test_memo_gives_the_same_results_as_full_analysis(analyzer: Any) -> None:
    memo = copy.copy(analyzer)
    memo.clear_memo()  # its own, empty memo
    plain = _plain(analyzer)
    chat = Conversation.from_texts(CHAT * 3, id="long-chat", industry="power")
    conversations = [*demo_conversations(), chat,
                     # the same texts in another industry: the cause (and the rewrite) may differ
                     Conversation(turns=chat.turns, id="other", industry="telecom")]
    compared = 0
    for conversation in conversations:
        for window in _windows(conversation):
            assert _result(memo(window)) == _result(plain(window)), (conversation.id, len(window.turns))
            compared += 1
    assert compared > 60
    assert memo.turn_stage and [c.name for c in memo.turn_stage][-1] == "anfu.presend.v1"
    assert 0 < memo.memo_size <= memo.turn_memo
    # utterances too
    for text in ("你们这是欺诈！我明天就去曝光你们！", "谢谢，问题解决了。"):
        assert memo(Utterance(text)).to_dict() == plain(Utterance(text)).to_dict()


def test_remembered_turns_are_not_recomputed(analyzer: Any) -> None:
    memo = copy.copy(analyzer)
    memo.clear_memo()
    seen: list[int] = []
    emotion = memo.get("anfu.emotion.v1")
    original = emotion.predict

    def counting(docs: Any) -> Any:
        seen.append(sum(len(d.turns) for d in docs))
        return original(docs)

    emotion.predict = counting  # an instance attribute: the shared analyzer is unchanged
    try:
        chat = Conversation.from_texts(CHAT, id="count", industry="power")
        memo(Conversation(turns=chat.turns[:6], id="count", industry="power"))
        memo(Conversation(turns=chat.turns[:7], id="count", industry="power"))
        memo(Conversation(turns=chat.turns[:7], id="count", industry="power"))
    finally:
        del emotion.predict
    # all six turns; then the new 7th: its text repeats turn 1, but as a follow-up it reads
    # differently (another key), so it alone is analysed; then nothing
    assert seen[0] == 6 and seen[1] == 1 and sum(seen[2:]) == 0
    # a new agent turn is analysed with blank copies of the turns its in-context check reads
    # (the CONTEXT_TURNS turns before it)
    before = len(seen)
    emotion.predict = counting
    try:
        memo(Conversation(turns=(*chat.turns[:7], Utterance("不好意思，这个问题我们也没办法。", speaker="agent")),
                          id="count", industry="power"))
    finally:
        del emotion.predict
    assert seen[before:] == [1 + CONTEXT_TURNS]


def test_memo_is_bounded_and_the_analyzer_still_pickles(analyzer: Any) -> None:
    memo = copy.copy(analyzer)
    memo.clear_memo()
    memo.turn_memo = 5
    chat = Conversation.from_texts(CHAT, id="bounded", industry="power")
    memo(chat)
    assert memo.memo_size == 5
    clone = pickle.loads(pickle.dumps(memo))
    assert clone.memo_size == 0  # starts empty in the receiving process
    assert _result(clone(chat)) == _result(_plain(analyzer)(chat))
    assert clone.memo_size == 5
