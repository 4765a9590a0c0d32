"""anfu.sop.v2: the SOP stage from a learned per-turn model."""

from __future__ import annotations

import pytest

from anfu.components.sop import DENSE_FEATURES, LearnedSop, Sop, load_model, turn_inputs
from anfu.glossary import SOP_STAGES
from anfu.testing import check_component
from anfu.types import Assessment, Conversation


def assess(turns: list[tuple[str, str]]) -> Assessment:
    return Assessment.start(Conversation.from_texts(turns, id="t"))


@pytest.fixture(scope="module")
def sop() -> LearnedSop:
    return LearnedSop()


def test_contract(sop: LearnedSop) -> None:
    check_component(sop)
    assert Sop.name == "anfu.sop.v1" and LearnedSop.name == "anfu.sop.v2"


REFUND = [  # e-commerce, a concrete plan then its execution
    ("customer", "我买的电饭煲用了三天就不加热了，你们怎么卖这种东西？"),
    ("agent", "非常抱歉给您添麻烦了。请问您的订单号是多少？我帮您查一下。"),
    ("customer", "订单号20231105889，上周五买的。"),
    ("agent", "查到了，还在七天无理由期内。我可以为您办理退货退款，明天上午快递员上门取件，"
              "签收后24小时内原路退款，您看可以吗？"),
]


def test_stage_follows_the_agents_concrete_plan(sop: LearnedSop) -> None:
    stages = sop.stages(sop(assess(REFUND)).turns)
    assert stages[0] == "接收反馈"
    assert stages[1] == "确认问题"
    assert stages[-1] == "提供方案"


def test_stage_reaches_execution_once_the_plan_is_carried_out(sop: LearnedSop) -> None:
    turns = REFUND + [("customer", "行，那就退吧。"),
                      ("agent", "好的，已经为您提交退货申请，取件单号SF1234567，明天上午快递员会联系您。")]
    doc = sop(assess(turns))
    assert SOP_STAGES.index(doc.sop_stage) >= SOP_STAGES.index("执行方案")
    assert doc.next_actions


def test_one_stage_per_turn_and_empty_input(sop: LearnedSop) -> None:
    doc = assess(REFUND)
    assert len(sop.stages(doc.turns)) == len(REFUND)
    assert sop.stages([]) == []


def test_inputs_match_the_weights() -> None:
    text, dense = turn_inputs(load_model(), 1, "agent", "我可以为您办理退款", 3, 1)
    assert len(dense) == len(DENSE_FEATURES) and text.endswith("我可以为您办理退款")


def _decode_per_state(sop: LearnedSop, turns: list) -> list[int]:
    """The decoder as it was before the window's text scores were computed once: every state
    of every turn scored by `predict_proba` on its own copy of the text."""
    import numpy as np

    from anfu.components.sop import MOVES, target
    from anfu.text.normalize import normalize

    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    agents = 0
    for index, turn in enumerate(turns):
        norm = turn.norm or normalize(turn.text)
        states = sorted(best)
        inputs = [turn_inputs(sop.model_, s, turn.speaker, norm, index, agents) for s in states]
        logp = np.log(sop.linear_.predict_proba([t for t, _ in inputs], np.array([d for _, d in inputs])) + 1e-9)
        nxt: dict[int, tuple[float, list[int]]] = {}
        for row, stage in enumerate(states):
            score, path = best[stage]
            for move in range(len(MOVES)):
                if move == 0 and stage == 0:
                    continue
                after = target(sop.model_, stage, move, turn.speaker, norm)
                total = score + float(logp[row, move])
                if after not in nxt or total > nxt[after][0]:
                    nxt[after] = (total, path + [after])
        best = nxt
        agents += turn.speaker == "agent"
    return max(best.values(), key=lambda v: (v[0], -v[1][-1]))[1] if turns else []


def test_window_scored_once_gives_the_same_stages(sop: LearnedSop) -> None:
    """decode_stages scores the text of the whole window in one pass and adds each state's
    dense features: the same stages, turn for turn, as scoring every state's copy of the text."""
    from anfu.components.sop import decode_stages

    angry = [("customer", "停电三天了还没人来修，家里老人热得受不了，你们到底管不管？"),
             ("agent", "非常抱歉给您带来不便，我马上帮您查询抢修进度。"),
             ("customer", "每次都说马上，再不来我就打12345投诉你们！"),
             ("agent", "这个不归我们管，你自己去问吧。"),
             ("customer", "你这是什么态度？叫你们领导来！"),
             ("agent", "抱歉，是我表达不当。抢修人员预计两小时内到达，到时会先电话联系您，我也会持续跟进。"),
             ("customer", "好吧，那我再等等。"),
             ("agent", "感谢您的理解，修好后我会回访确认。")]
    for turns in (REFUND, angry, angry[:1], angry + REFUND):
        doc = sop(assess(turns))
        assert decode_stages(sop.model_, sop.linear_, doc.turns) == _decode_per_state(sop, doc.turns)
    assert decode_stages(sop.model_, sop.linear_, []) == []


def test_text_scores_once_equal_per_row_logits(sop: LearnedSop) -> None:
    """`logits_with(text_logits)` is `predict_logits` exactly, also when one text's row is
    repeated for several dense rows and the text rows came from a batch of other texts."""
    import numpy as np

    linear = sop.linear_
    texts = ["\x06宽带又断了，这都第三次了！", "\x05非常抱歉，我马上为您登记加急工单。", "\x06谢谢你。"]
    rng = np.random.default_rng(7)
    dense = rng.random((4, len(DENSE_FEATURES))).astype(np.float32)
    batch = linear.text_logits(texts)
    for i, text in enumerate(texts):
        rows = np.repeat(batch[i:i + 1], len(dense), axis=0)
        assert np.array_equal(linear.logits_with(rows, dense), linear.predict_logits([text] * len(dense), dense))


def test_remembered_text_rows_equal_a_fresh_computation(sop: LearnedSop) -> None:
    """`text_logits` remembers each text's row (a live window scores the same turns at every
    turn): a batch mixing remembered and new texts equals the linear model computed afresh."""
    import numpy as np

    from anfu.backends.ngram import NgramEmotionModel

    linear = sop.linear_
    seen = ["\x06宽带又断了，这都第三次了！", "\x05非常抱歉，我马上为您登记加急工单。"]
    linear.text_logits(seen)
    mixed = [seen[1], "\x06师傅明天上午能来吗？", seen[0], seen[1]]
    fresh = NgramEmotionModel._linear(linear.transform(mixed), linear.coef_, linear.intercept_)
    assert np.array_equal(linear.text_logits(mixed), fresh)
    assert linear.text_logits([]).shape == (0, len(linear.labels))


def test_remembered_decoder_state_gives_the_same_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a live chat's window grows by one turn at a time; with the memo the decoder
    starts from the state it reached on the window before (scoring only the new turn) and gives
    exactly the stages of a fresh decode, for every window, also when a window repeats or
    changes an earlier turn (then it decodes afresh)."""
    from anfu.components import sop as sop_module

    chat = REFUND + [("customer", "行，那就退吧。"),
                     ("agent", "好的，已经为您提交退货申请，取件单号SF1234567，明天上午快递员会联系您。"),
                     ("customer", "快递员没来，你们到底靠不靠谱？"),
                     ("agent", "非常抱歉，我马上联系快递站点，半小时内给您回电。")]
    remembering, fresh = LearnedSop(), LearnedSop()
    scored: list[int] = []
    original = sop_module.turn_inputs
    monkeypatch.setattr(sop_module, "turn_inputs", lambda *a, **k: (scored.append(a[4]), original(*a, **k))[1])
    for end in range(1, len(chat) + 1):
        window = assess(chat[:end]).turns
        scored.clear()
        got = remembering.stages(window)
        assert set(scored) == {end - 1}  # only the new turn was scored
        assert got == [SOP_STAGES[i] for i in sop_module.decode_stages(fresh.model_, fresh.linear_, window)]
    changed = [*chat[:-1], ("agent", "这是快递的问题，您自己找快递吧。")]
    window = assess(changed).turns
    assert remembering.stages(window) == [SOP_STAGES[i] for i in sop_module.decode_stages(fresh.model_, fresh.linear_, window)]
    slid = assess(chat[1:]).turns
    scored.clear()
    assert remembering.stages(slid) == [SOP_STAGES[i] for i in sop_module.decode_stages(fresh.model_, fresh.linear_, slid)]
    assert set(scored) == set(range(len(chat) - 1))  # a slid window is decoded afresh
