"""anfu.presend.v1: flags agent turns before sending, leaves customer turns alone."""

from __future__ import annotations

from anfu.components.normalize import Normalizer
from anfu.components.presend import PreSend
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, Utterance


def _run(conv: Conversation) -> Assessment:
    doc = Assessment.start(conv)
    Normalizer()(doc)
    return PreSend()(doc)


def test_contract() -> None:
    check_component(PreSend())


def test_agent_turns_get_violation_findings_and_rewrite() -> None:
    doc = _run(Conversation.from_texts([
        ("customer", "这个月电费怎么多了两百块？你们是不是多收了！"),
        ("agent", "不可能，我们的系统从来不会出错，这是公司的规定。"),
        ("customer", "那我要投诉你们！"),
        ("agent", "非常抱歉给您带来不便，我马上为您核实电费明细，30分钟内给您回电。"),
    ]))
    bad, good = doc.turns[1], doc.turns[3]
    assert bad.violation is True
    assert {"flat_denial", "policy_wall"} <= {f.category for f in bad.findings}
    assert any(bad.text[f.start:f.end] == "不可能" for f in bad.findings)
    assert bad.rewrite and "费用明细" in bad.rewrite  # cause guessed from the customer's words
    assert good.violation is False and good.findings == [] and good.rewrite is None
    for turn in (doc.turns[0], doc.turns[2]):
        assert turn.violation is None and turn.findings == [] and turn.rewrite is None
    out = doc.to_dict()["turns"][1]
    assert out["violation"] is True and out["findings"][0]["rule_id"].startswith("fp.")


def test_customer_utterance_is_untouched() -> None:
    doc = Assessment.start(Utterance(text="不行！你们到底管不管？"))
    Normalizer()(doc)
    PreSend()(doc)
    assert doc.turns[0].violation is None and doc.turns[0].findings == []


def test_in_the_default_pipeline_after_cause(analyzer) -> None:  # noqa: ANN001
    names = analyzer.component_names
    assert names.index("anfu.presend.v1") > names.index("anfu.cause.v1")
    result = analyzer(Conversation.from_texts([("customer", "快递三天了还没到！"), ("agent", "您去找快递公司吧，我们管不了。")]))
    assert result.turns[1].violation is True
    assert "物流" in (result.turns[1].rewrite or "")
