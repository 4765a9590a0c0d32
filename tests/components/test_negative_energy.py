"""anfu.negative_energy.v1: 负能量客户 signals and the protocol that follows."""

from __future__ import annotations

import pytest

from anfu.components.negative_energy import NegativeEnergy, load_model, validate_negative_energy
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.types import AgentProtection, Assessment, Conversation, Signal


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="ne-1"))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    return doc


REPEATING = [  # e-commerce: the same complaint over and over, no new information
    ("customer", "我买的空气炸锅用了一周就不加热了，你们卖的什么破东西，质量太差了！"),
    ("agent", "非常抱歉，请您提供一下订单号，我帮您申请售后。"),
    ("customer", "空气炸锅用了一周就不加热了，你们卖的什么东西，质量太差了！"),
    ("agent", "我理解您的心情，麻烦提供订单号好吗？"),
    ("customer", "我说了空气炸锅用了一周就不加热了，质量太差了，你们卖的什么破东西！"),
]


def test_contract() -> None:
    check_component(NegativeEnergy())


def test_shipped_pack_is_valid_and_missing_script_is_reported() -> None:
    pack = load_pack("negative_energy")
    assert validate_negative_energy(pack) == []
    scripts = dict(pack["protocol"]["boundary_scripts"])
    del scripts["aggression"]
    broken = {**pack, "protocol": {**pack["protocol"], "boundary_scripts": scripts}}
    assert any("boundary_scripts" in p for p in validate_negative_energy(broken))


def test_persistent_complaining_without_new_information() -> None:
    doc = assess(REPEATING)
    NegativeEnergy()(doc)
    ne = doc.negative_energy
    assert ne.flag is True
    repeats = [s for s in ne.signals if s.type == "persistent_complaining"]
    assert [s.turn for s in repeats] == [2, 4]
    assert "空气炸锅" in repeats[0].text
    assert ne.protocol.boundary_scripts[0].startswith("您反映的情况我已经完整记录")
    assert ne.protocol.agent_protection.wellbeing_marker is True
    assert ne.protocol.supervisor_alert is False


def test_one_repeat_or_new_information_is_not_negative_energy() -> None:
    doc = assess(REPEATING[:3])
    NegativeEnergy()(doc)
    assert doc.negative_energy.flag is False
    assert doc.negative_energy.protocol.boundary_scripts == ()
    progressing = assess([
        ("customer", "我的宽带从昨天晚上开始就连不上网了。"),
        ("agent", "请问光猫的指示灯是什么颜色？"),
        ("customer", "光猫上的LOS灯一直在闪红灯，重启了三次也没用。"),
        ("agent", "好的，我为您派单。"),
        ("customer", "师傅大概几点能到？我下午要出门。"),
    ])
    NegativeEnergy()(progressing)
    assert progressing.negative_energy.signals == ()
    assert progressing.negative_energy.flag is False


@pytest.mark.parametrize("text,quote", [
    ("食品有问题，我要十倍赔偿，少一分都不行！", "十倍赔偿"),
    ("停电害我一晚上没睡，你们得赔我精神损失费。", "精神损失费"),
    ("冰箱里的东西都坏了，赔我一万块这事就算了。", "赔我一万"),
    ("刚才那个客服态度太差，你们必须开除那个客服！", "开除那个客服"),
    ("快递晚到一天，你们得给我终身免费配送。", "终身免费"),
])
def test_unreasonable_demands(text: str, quote: str) -> None:
    doc = assess([("customer", text)])
    NegativeEnergy()(doc)
    ne = doc.negative_energy
    assert ne.flag is True
    assert Signal(type="unreasonable_demand", turn=0, text=quote) in ne.signals
    assert any(quote in script for script in ne.protocol.boundary_scripts)
    assert ne.protocol.team_support.recommended is True


def test_aggression_from_abuse_labels_and_repeated_insults() -> None:
    turns = [("customer", "你们这群废物，话费乱扣！"), ("agent", "非常抱歉，我马上帮您查询扣费明细。"),
             ("customer", "查什么查，脑子有病吧，赶紧退钱！")]
    once = assess(turns, {0: {"abusive": True}})
    NegativeEnergy()(once)
    assert once.negative_energy.flag is True
    assert once.negative_energy.protocol.agent_protection.takeover_offered is False
    assert once.negative_energy.protocol.cooling_off.recommended is False
    twice = assess(turns, {0: {"abusive": True}, 2: {"abusive": True}})
    NegativeEnergy()(twice)
    protocol = twice.negative_energy.protocol
    assert [s.turn for s in twice.negative_energy.signals] == [0, 2]
    assert protocol.agent_protection.takeover_offered is True and protocol.agent_protection.wellbeing_marker is True
    assert protocol.cooling_off.recommended is True and "30分钟" in protocol.cooling_off.script
    assert "侮辱性的语言" in protocol.boundary_scripts[0]
    assert protocol.agent_protection.self_care


def test_violence_threat_alerts_supervisor_and_protects_the_agent() -> None:
    doc = assess([("customer", "停电三天你们不管，赔钱！"), ("agent", "非常抱歉，我们正在抢修。"),
                  ("customer", "再不来电我就去营业厅找人收拾你，你给我等着！")])
    NegativeEnergy()(doc)
    ne = doc.negative_energy
    assert Signal(type="violence_threat", turn=2, text="找人收拾你") in ne.signals
    protocol = ne.protocol
    assert protocol.supervisor_alert is True
    assert protocol.agent_protection.takeover_offered is True
    assert protocol.boundary_scripts[0].startswith("涉及人身威胁")
    events = [e.to_dict() for e in doc.events if e.name == "negative_energy.flagged"]
    assert events == [{"name": "negative_energy.flagged", "conversation_id": "ne-1",
                       "signal_types": ["violence_threat"], "supervisor_alert": True, "turn": 2}]


def test_calm_conversation_has_no_signals_or_events() -> None:
    doc = assess([("customer", "请问这个月的电费账单什么时候出？"), ("agent", "每月5号出账。"), ("customer", "好的，谢谢。")])
    NegativeEnergy()(doc)
    ne = doc.negative_energy
    assert ne.flag is False and ne.signals == ()
    assert ne.protocol.supervisor_alert is False
    assert ne.protocol.agent_protection == AgentProtection(takeover_offered=False, wellbeing_marker=False, self_care=())
    assert doc.events == []


def test_repeating_model_marks_when_the_flag_was_raised() -> None:
    result, at = load_model().assess(assess(REPEATING).turns)
    assert result.flag and at == 4


def test_protocol_scripts_pass_the_presend_check() -> None:
    check_reply = getattr(pytest.importorskip("anfu.qa"), "check_reply", None)
    if check_reply is None:
        pytest.skip("anfu.qa.check_reply is not available yet")
    protocol = load_pack("negative_energy")["protocol"]
    texts = [t.replace("{text}", "十倍赔偿") for t in protocol["boundary_scripts"].values()]
    texts.append(protocol["cooling_off"]["script"].replace("{minutes}", "30"))
    for text in texts:
        assert check_reply(text).violation is False, text


def test_calm_repetition_is_not_complaining() -> None:
    """Customers echo their own words when answering or thanking; that is not 持续抱怨."""
    turns = [("customer", "@中国联通客服 家里座机老有骚扰电话，没有来电显示，怎么处理？"),
             ("agent", "您好，是只有这个骚扰电话没有显示来电号码吗？"),
             ("customer", "对，骚扰电话没有来电显示，家里座机老有骚扰电话。"),
             ("agent", "我们可以为您开通来电拦截。"),
             ("customer", "好的，家里座机的骚扰电话没有来电显示，那就开通吧，谢谢。")]
    calm = assess(turns, {0: {"emotion": "anxious"}, 2: {"emotion": "neutral"}, 4: {"emotion": "satisfied"}})
    NegativeEnergy()(calm)
    assert calm.negative_energy.signals == ()
    unlabelled = assess(turns)
    NegativeEnergy()(unlabelled)
    # without emotion labels the echo in turn 2 counts, but one repeat is not yet a flag
    assert [(s.type, s.turn) for s in unlabelled.negative_energy.signals] == [("persistent_complaining", 2)]
    assert unlabelled.negative_energy.flag is False
