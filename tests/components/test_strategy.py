"""anfu.strategy.v1: ranked 话术 suggestions fitted to the situation and filled with specifics."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from anfu.components import strategy as strategy_module
from anfu.components.strategy import SAMPLE_SLOTS, Strategy, render, validate_strategies
from anfu.glossary import GUIDANCE_METHODS
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import Assessment, Conversation, Utterance

TIME = re.compile(r"(\d+(\.\d+)?(小时|分钟|天)内|(今天|明天|后天|\d+月\d+日)\d{1,2}:\d{2}前)")


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None, **context) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="st-1"))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    for key, value in context.items():
        setattr(doc, key, value)
    return doc


def suggest(doc: Assessment) -> list:
    Strategy(presend_check=False)(doc)
    return doc.suggestions


def test_contract() -> None:
    check_component(Strategy())


def test_shipped_pack_is_valid_and_generic_filler_is_reported() -> None:
    pack = load_pack("strategies")
    assert validate_strategies(pack) == []
    filler = {"id": "filler", "method": "情感诱导", "text": "请您耐心等待，我们会处理的。", "why": "x"}
    problems = validate_strategies({**pack, "scripts": pack["scripts"] + [filler]})
    assert any("no generic filler" in p for p in problems)


def test_every_script_passes_the_presend_check() -> None:
    """Every 话术 of the pack, rendered with sample slots, is free of 服务忌语."""
    check_reply = getattr(pytest.importorskip("anfu.qa"), "check_reply", None)
    if check_reply is None:
        pytest.skip("anfu.qa.check_reply is not available yet")
    for script in load_pack("strategies")["scripts"]:
        text = render(script["text"], SAMPLE_SLOTS)
        result = check_reply(text)
        assert result.violation is False, (script["id"], text, result.findings)


def test_angry_outage_customer_gets_apology_first_with_specifics() -> None:
    doc = assess([("customer", "停电五个小时了还没人来修！！你们到底管不管？")],
                 {0: {"emotion": "angry", "intensity": 4, "cause": "outage"}})
    found = suggest(doc)
    assert len(found) >= 3
    assert found[0].method == "情感诱导" and "抱歉" in found[0].text
    assert all(s.method in GUIDANCE_METHODS for s in found)
    assert all("停电" in s.text and TIME.search(s.text) for s in found)
    assert "2小时内" in found[0].text  # the pack's commitment for outages
    assert len({s.method for s in found}) >= 3
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all("愤怒" in s.why and "停电断网" in s.why for s in found)


def test_doubtful_billing_customer_gets_reasoning_with_records() -> None:
    persona = {"type": "怀疑型", "confidence": 0.7, "evidence": [],
               "playbook": {"speak": [], "avoid": [], "method": "说理诱导"}}
    doc = assess([("customer", "这个月电费怎么八百多？是不是多扣了？"), ("agent", "请问您的户号是？"),
                  ("customer", "3201009988，你们查出来的我能信吗？")],
                 {0: {"emotion": "doubtful", "intensity": 2, "cause": "billing"},
                  2: {"emotion": "doubtful", "intensity": 2}},
                 persona=persona, sop_stage="确认问题", next_actions=["出示依据", "确认问题", "积极解决"])
    found = suggest(doc)
    assert found[0].method == "说理诱导"
    assert "电费" in found[0].text and "核对" in found[0].text
    assert "24小时内" in found[0].text
    # scripts written for other personalities are not offered to a 怀疑型 customer
    assert not any("回答“对”" in s.text or "多年来的支持" in s.text for s in found)


def test_refund_cause_from_the_topic_when_no_cause_component_ran() -> None:
    doc = assess([("customer", "退款申请提交一周了还没到账，我很着急。"), ("agent", "我们可以为您加急处理。")],
                 {0: {"emotion": "anxious", "intensity": 2}})
    found = suggest(doc)
    assert len(found) >= 3
    assert all("退款" in s.text for s in found)
    assert any("3天内" in s.text for s in found)  # 72 hours for refunds
    assert any(s.method == "利益诱导" and "原路退回" in s.text for s in found)


def test_abuse_brings_a_boundary_script() -> None:
    doc = assess([("customer", "你们这群废物，宽带又断了！")], {0: {"emotion": "angry", "intensity": 4, "abusive": True}})
    found = suggest(doc)
    assert any("侮辱性的语言" in s.text and "宽带" in s.text for s in found)


def test_persona_computed_when_absent_shapes_the_ranking() -> None:
    doc = assess([("customer", "我是你们十几年的老用户了，钻石会员，宽带坏了三天没人管？"),
                  ("agent", "非常抱歉，我马上为您登记。"),
                  ("customer", "别人家都是当天修好，凭什么我的不行？我在你们这花了多少钱你知道吗？")],
                 {0: {"emotion": "dissatisfied", "intensity": 2}, 2: {"emotion": "dissatisfied", "intensity": 3}})
    found = suggest(doc)
    assert doc.persona is None  # the component computed the persona itself, without writing it
    vanity = [s for s in found if "多年来的支持" in s.text]
    assert vanity and vanity[0].method == "利益诱导" and "虚荣型" in vanity[0].why and "宽带" in vanity[0].text
    # with no recognised personality the 虚荣型 script is not offered
    unknown = {"type": "unknown", "confidence": 0.0, "evidence": [],
               "playbook": {"speak": [], "avoid": [], "method": "说理诱导"}}
    doc.persona = unknown
    assert not any("多年来的支持" in s.text for s in suggest(doc))


def test_timestamps_give_a_clock_time() -> None:
    # 2026-03-02 09:05 China Standard Time
    turns = (Utterance("家里停电了，什么时候能来电？", timestamp=1772413500.0),)
    doc = Assessment.start(Conversation(turns=turns, id="st-ts"))
    doc.turns[0].cause = "outage"
    found = suggest(doc)
    assert any("今天11:10前" in s.text for s in found)


def test_suggestions_are_filtered_through_the_presend_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def check_reply(text: str, context=None):  # noqa: ANN001, ANN202
        if "优先" in text:
            return SimpleNamespace(violation=True, findings=["x"], rewrite=None)
        if "换作是我也会生气" in text:
            return SimpleNamespace(violation=True, findings=["x"], rewrite=text.replace("换作是我也会生气", "这确实让人着急"))
        return SimpleNamespace(violation=False, findings=[], rewrite=None)

    monkeypatch.setattr(strategy_module, "_checker", lambda: check_reply)
    doc = assess([("customer", "停电五个小时了还没人来修！！")], {0: {"emotion": "angry", "intensity": 4, "cause": "outage"}})
    Strategy()(doc)
    texts = [s.text for s in doc.suggestions]
    assert len(texts) >= 3
    assert not any("优先" in t for t in texts)
    assert any("这确实让人着急" in t for t in texts) and not any("换作是我" in t for t in texts)


def test_utterance_gets_no_suggestions() -> None:
    doc = Assessment.start(Utterance(text="电费怎么这么高"))
    Strategy()(doc)
    assert doc.suggestions is None


def test_live_suggestions_pass_the_presend_check() -> None:
    check_reply = getattr(pytest.importorskip("anfu.qa"), "check_reply", None)
    if check_reply is None:
        pytest.skip("anfu.qa.check_reply is not available yet")
    doc = assess([("customer", "宽带断网两天了，你们到底修不修？"), ("agent", "请您提供一下宽带账号。"),
                  ("customer", "账号02588886666，这是我第三次打电话了，今天再不修我就去工信部投诉！")],
                 {0: {"emotion": "angry", "intensity": 3, "cause": "outage"},
                  2: {"emotion": "angry", "intensity": 4, "escalation_risk": True}})
    Strategy()(doc)
    assert len(doc.suggestions) >= 3
    for s in doc.suggestions:
        assert "宽带" in s.text
        assert check_reply(s.text).violation is False, s.text
