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
