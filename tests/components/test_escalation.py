"""anfu.escalation.v1: the escalation ladder L0–L3, its reasons and escalation.raised events."""

from __future__ import annotations

from dataclasses import replace

import pytest

import re

from anfu.components.escalation import Escalation, load_ladder, validate_ladder
from anfu.components.negative_energy import load_model as load_negative_energy
from anfu.rules import load_pack
from anfu.testing import check_component
from anfu.events import TicketCreated
from anfu.types import Assessment, Conversation, EscalationResult, Signal, Utterance

CJK = re.compile(r"[\u4e00-\u9fff]")


def assess(turns: list[tuple[str, str]], labels: dict[int, dict] | None = None, **kwargs) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="esc-1", **kwargs))
    for index, values in (labels or {}).items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    return doc


def raised(doc: Assessment) -> list[dict]:
    return [e.to_dict() for e in doc.events if e.name == "escalation.raised"]


TELECOM = [
    ("customer", "手机没信号两天了，你们什么时候修？"),
    ("agent", "您好，请问您在什么位置？"),
    ("customer", "在家里，城南花园。"),
    ("agent", "请问您具体在什么位置？"),
    ("customer", "说了多少遍了在家里！你们到底管不管？"),
    ("agent", "我帮您查询一下基站情况。"),
    ("customer", "查查查，就知道查！再不解决我就去工信部投诉你们！"),
]
# the agent's replies miss (asked twice for what was given, then a vague "查询"): the pre-send
# check's violations are what tells sustained anger without progress from anger being handled
TELECOM_LABELS = {0: {"intensity": 3}, 1: {"violation": True}, 2: {"intensity": 1}, 3: {"violation": True},
                  4: {"intensity": 3}, 5: {"violation": True}, 6: {"intensity": 4, "escalation_risk": True}}


def test_contract() -> None:
    check_component(Escalation())


def test_shipped_pack_is_valid_and_bad_reason_field_is_reported() -> None:
    pack = load_pack("escalation_ladder")
    assert validate_ladder(pack) == []
    rules = [dict(r) for r in pack["rules"]]
    rules[0]["reason"] = "客户强度{strength}"
    assert any("unknown field" in p for p in validate_ladder({**pack, "rules": rules}))


def test_calm_conversation_stays_with_the_agent() -> None:
    doc = assess([("customer", "我想把宽带套餐换成200兆的。"), ("agent", "好的，已为您办理。"), ("customer", "谢谢。")],
                 {0: {"intensity": 0}, 2: {"intensity": 0}})
    Escalation()(doc)
    assert doc.escalation == EscalationResult(level=0, label="坐席自行处理", reasons=())
    assert doc.escalation.to_dict() == {"level": 0, "label": "坐席自行处理", "reasons": []}
    assert raised(doc) == []


def test_rising_anger_and_threat_climb_the_ladder_with_events() -> None:
    doc = assess(TELECOM, TELECOM_LABELS)
    Escalation()(doc)
    assert doc.escalation.level == 2
    assert any("持续激动" in r and "强度4" in r for r in doc.escalation.reasons)
    assert any("投诉" in r for r in doc.escalation.reasons)
    assert all(CJK.search(r) for r in doc.escalation.reasons)
    events = raised(doc)
    assert [(e["previous_level"], e["level"], e["turn"]) for e in events] == [(0, 1, 4), (1, 2, 6)]
    assert all(e["conversation_id"] == "esc-1" and e["reasons"] for e in events)


def test_one_strong_message_stays_with_the_agent() -> None:
    doc = assess([("customer", "说好昨天送到的快递怎么还没到，怎么回事！"), ("agent", "非常抱歉，我马上为您催件。"),
                  ("customer", "好的，麻烦尽快。")], {0: {"intensity": 3}, 2: {"intensity": 1}})
    Escalation()(doc)
    assert doc.escalation.level == 0


def test_level_never_goes_down_when_the_customer_calms() -> None:
    doc = assess(TELECOM + [("agent", "已为您派单，明天上午恢复。"), ("customer", "好吧，谢谢。")],
                 {**TELECOM_LABELS, 8: {"intensity": 0}})
    Escalation()(doc)
    assert doc.escalation.level == 2
    assert len(raised(doc)) == 2


def test_repeated_contacts_from_the_text_and_from_metadata() -> None:
    third = assess([("customer", "这是我第三次打电话了，退款还是没到账。")])
    Escalation()(third)
    assert third.escalation.level == 2
    assert "客户已3次联系，问题仍未解决" in third.escalation.reasons

    # a calm second contact is the agent's while the replies work; a reply that misses brings the
    # team lead in
    again = assess([("customer", "我又打电话来问了，电表什么时候换？")])
    Escalation()(again)
    assert again.escalation.level == 0
    missed = assess([("customer", "我又打电话来问了，电表什么时候换？"), ("agent", "请您耐心等待。")],
                    {1: {"violation": True}})
    Escalation()(missed)
    assert missed.escalation.level == 1
    assert "客户称已是第2次联系，问题仍未解决" in missed.escalation.reasons
    angry = assess([("customer", "我又打电话来问了，电表到底什么时候换？！")], {0: {"intensity": 3}})
    Escalation()(angry)
    assert angry.escalation.level == 1
    # "跟上两次一样" names two earlier contacts: a third contact alerts at once
    third_again = assess([("customer", "宽带又断了，跟上两次一样。")])
    Escalation()(third_again)
    assert third_again.escalation.level >= 1

    meta = assess([("customer", "电表什么时候换？")])
    meta.contact_count = 4
    Escalation()(meta)
    assert meta.escalation.level == 2

    threat = assess([("customer", "反复打了好几次电话都没人处理，我要打12398投诉！")], {0: {"escalation_risk": True}})
    Escalation()(threat)
    assert threat.escalation.level == 3
    assert threat.escalation.label == "转投诉专席或值班经理"


def test_waiting_time_from_timestamps_and_from_the_text() -> None:
    turns = (Utterance("在线客服有人吗？我的订单一直显示待发货。", timestamp=1_700_000_000.0),
             Utterance("亲，您好，请提供订单号。", speaker="agent", timestamp=1_700_000_000.0 + 35 * 60))
    doc = Assessment.start(Conversation(turns=turns, id="esc-ts"))
    Escalation()(doc)
    assert doc.escalation.level == 2
    assert any("35分钟" in r for r in doc.escalation.reasons)

    stated = assess([("customer", "报修等了两天了还没人来，家里一直没电。"), ("agent", "请您耐心等待。")],
                    {0: {"intensity": 2}, 1: {"violation": True}})
    Escalation()(stated)
    assert stated.escalation.level == 1
    assert any("48小时" in r for r in stated.escalation.reasons)


def test_a_calm_customer_who_reports_a_long_wait_is_the_agents_to_handle() -> None:
    # the same missed reply to a polite customer (intensity 1): no team-lead alert
    calm = assess([("customer", "您好……我报的瑜伽课取消了，说会退款……两个星期了还没收到……不好意思问一下"),
                   ("agent", "会尽快给您处理的。")], {0: {"intensity": 1}, 1: {"violation": True}})
    Escalation()(calm)
    assert calm.escalation.level == 0


def test_negative_energy_signals_raise_the_level() -> None:
    threat = assess([("customer", "再不给我修好，我就去营业厅砸了你们的柜台！")])
    Escalation()(threat)
    assert threat.escalation.level == 3
    assert any("人身威胁" in r for r in threat.escalation.reasons)

    demand = assess([("customer", "退款可以，但是你们得再赔我精神损失费。")])
    demand.negative_energy = replace(load_negative_energy().assess(demand.turns)[0], flag=True,
                                     signals=(Signal(type="unreasonable_demand", turn=0, text="精神损失费"),))
    Escalation()(demand)
    assert demand.escalation.level == 2
    assert any("超出政策范围" in r for r in demand.escalation.reasons)


def test_running_twice_does_not_duplicate_events_and_keeps_other_events() -> None:
    doc = assess(TELECOM, TELECOM_LABELS)
    doc.events = [TicketCreated(ticket_id="T1", at="2026-01-01T00:00:00", actor="agent01", customer_ref="C-1",
                                channel="app", cause="network", priority="normal")]
    Escalation()(doc)
    Escalation()(doc)
    names = [e.name for e in doc.events]
    assert names.count("ticket.created") == 1 and names.count("escalation.raised") == 2


def test_no_alert_while_the_customer_is_coming_down() -> None:
    import anfu

    analyzer = anfu.load()
    opening = ("customer", "停电一整天了，冰箱里的东西全坏了，你们到底管不管？")
    calming = analyzer(Conversation.from_texts([
        opening, ("agent", "非常抱歉，我马上为您查询抢修进度，十分钟内给您回电。"),
        ("customer", "行吧，那我等你电话，别又忘了，我真的很着急。"),
    ]))
    sustained = analyzer(Conversation.from_texts([
        opening, ("agent", "这个我们也没办法，您等着吧。"),
        ("customer", "什么叫没办法？一整天了还让我等着？你们到底管不管？"),
        ("agent", "跟您说了没办法，您再等等吧。"),
        ("customer", "又让我等？冰箱里的东西全坏了，你们到底管不管？"),
    ]))
    assert [t.intensity for t in calming.customer_turns] == [3, 3]  # two strong turns in both
    assert calming.escalation.level == 0, calming.escalation
    assert sustained.escalation.level >= 1


def test_a_vulnerable_customer_whose_replies_miss_alerts_even_when_polite() -> None:
    turns = [("customer", "不好意思打扰一下……我们家从中午就停电了，请问什么时候能来电？"),
             ("agent", "您那片线路故障，正在抢修中。"),
             ("customer", "我爸在家用制氧机，他肺不好，备用电池只能撑两三个小时……"),
             ("agent", "具体时间我们这边没有，请您耐心等待。"),
             ("customer", "电池快没电了，能不能帮忙问一下抢修的师傅？对不起，我知道你们也忙……"),
             ("agent", "抢修人员在现场我们联系不上。")]
    failing = assess(turns, {0: {"intensity": 0}, 2: {"intensity": 2}, 3: {"violation": True},
                             4: {"intensity": 2}, 5: {"violation": True}})
    Escalation()(failing)
    assert failing.escalation.level == 1
    assert any(r.startswith("弱势客户") for r in failing.escalation.reasons)
    assert [e["turn"] for e in raised(failing)] == [5]
    # the same customer answered with a plan: no alert
    handled = assess(turns[:4] + [("customer", "好的，那我等你们电话。")],
                     {0: {"intensity": 0}, 2: {"intensity": 2}, 4: {"intensity": 1}})
    Escalation()(handled)
    assert handled.escalation.level == 0
    # no one vulnerable: two weak replies to a calm customer are not an alert by themselves
    plain = assess([("customer", "我家停电了，什么时候来电？"), ("agent", "正在抢修中，请耐心等待。"),
                    ("customer", "大概要多久？"), ("agent", "具体时间没有。")],
                   {0: {"intensity": 1}, 1: {"violation": True}, 2: {"intensity": 1}, 3: {"violation": True}})
    Escalation()(plain)
    assert plain.escalation.level == 0


def test_agent_replies_count_the_replies_before_the_latest_customer_turn() -> None:
    ladder = load_ladder()
    doc = assess([("customer", "我要投诉！"), ("customer", "听见没有？"), ("agent", "您好，我在听。"),
                  ("customer", "那你说怎么办。")])
    facts = ladder.timeline(doc, [])
    assert [f.agent_replies for f in facts] == [0, 0, 0, 1]


def test_a_vulnerable_customer_who_gives_up_politely_still_alerts() -> None:
    """Issue 10 (ladder): a polite give-up after replies that missed ("好吧…我再问问邻居能不能帮忙。
    谢谢。") reads as acceptance, but the guide counts a vulnerable customer left without a plan as an
    alert, so `calming` does not veto `vulnerable_unanswered`; the same words after a plan do not alert."""
    turns = [("customer", "你好，我是12楼的住户，电梯停了两天了，我母亲腿脚不好，坐轮椅，明天上午要去医院做透析。"),
             ("agent", "您好，电梯正在维修，修好后会第一时间通知大家。"),
             ("customer", "请问大概什么时候能修好？明天上午八点就要出门，透析不能不去的。"),
             ("agent", "维修是电梯公司负责的，具体时间我们这边也不清楚。"),
             ("customer", "好吧…我再问问邻居能不能帮忙。谢谢。")]
    failing = assess(turns, {0: {"intensity": 2}, 1: {"violation": True}, 2: {"intensity": 2},
                             3: {"violation": True}, 4: {"intensity": 0}})
    Escalation()(failing)
    assert failing.escalation.level == 1
    assert any(r.startswith("弱势客户") for r in failing.escalation.reasons)
    handled = assess(turns[:2] + [("customer", "好吧…那我等通知。谢谢。")],
                     {0: {"intensity": 2}, 2: {"intensity": 0}})
    Escalation()(handled)
    assert handled.escalation.level == 0


@pytest.mark.parametrize("text", [
    "我今年81了，前阵子摔了一跤，腰不好，一个人住，走不到银行去啊。",
    "我一个人，八十二了，屋里冷得很……",
    "我腿不好，营业厅远……",
    "明天的唐筛。孕16周。",
    "我这周要去产检，卡锁了挂不了号。",
])
def test_vulnerable_cues_cover_ages_in_digits_and_pregnancy(text: str) -> None:
    ladder = load_ladder()
    facts = ladder.timeline(assess([("customer", text)]), [])
    assert facts[-1].vulnerable_turns == 1, text


@pytest.mark.parametrize("text", ["我家那只猫今年12岁了。", "我腿有点酸，走路多了。", "等了60分钟了还没人接。"])
def test_vulnerable_cues_do_not_fire_on_lookalikes(text: str) -> None:
    ladder = load_ladder()
    facts = ladder.timeline(assess([("customer", text)]), [])
    assert facts[-1].vulnerable_turns == 0, text


@pytest.mark.parametrize("text,demand", [
    ("天气？那天全国都是大晴天。你们主管在吗？我这个量级的客户，想直接跟主管谈。", True),
    ("能不能让我跟你们经理说几句？", True),
    ("我和你们经理是老同学，不过这事我就想问问进度。", False),
    ("你们经理上次说会回电话，我就是问问。", False),
])
def test_manager_asked_for_politely_counts(text: str, demand: bool) -> None:
    ladder = load_ladder()
    facts = ladder.timeline(assess([("customer", text)]), [])
    assert (facts[-1].manager_requests >= 1) is demand, text


@pytest.mark.parametrize("text,contacts", [
    ("包裹还没到。问过两次了。", 3),  # asked twice before: this is the third contact
    ("前两次营业厅都说办不了，今天还是不行。", 3),
    ("挂失。第三次了。", 3),
    ("打过好几回了，一直说在处理。", 3),
    ("这是我第一次问这个。", 1),
    # an earlier complaint about something else, handled: no repeat contact
    ("我之前投诉过你们营业厅一次，后来有人回电道歉，处理得还行。这次是想问下账单。", 1),
])
def test_contacts_the_customer_counts(text: str, contacts: int) -> None:
    ladder = load_ladder()
    assert ladder.timeline(assess([("customer", text)]), [])[-1].contacts == contacts, text


@pytest.mark.parametrize("text", [
    "家里断网了，我妈用的心电监护要联网传数据给医生。",
    "卡被锁了，我爸明天等着做手术，押金交不上啊！",
    "手术费今天必须交，转账一直失败。",
])
def test_vulnerable_cues_cover_medical_monitoring_and_surgery(text: str) -> None:
    ladder = load_ladder()
    assert ladder.timeline(assess([("customer", text)]), [])[-1].vulnerable_turns == 1, text


def test_a_repeat_report_counts_as_a_second_contact() -> None:
    ladder = load_ladder()
    facts = ladder.timeline(assess([("customer", "上周报过一次，厨房总觉得有股燃气味，今天味儿又有了，比上次还大。")]), [])
    assert facts[-1].contacts >= 2


def test_replies_that_keep_failing_alert_while_the_customer_stays_upset() -> None:
    """Issue 10 (ladder): three replies the pre-send check judged violations and a customer still
    upset (intensity >= 2) and not coming down is no progress, even with no threat word and an
    intensity read below 3; a mild customer who gives up quietly after them is not an alert."""
    turns = [("customer", "退货寄回去十天了，退款还没到，我这个月房租就指着它呢。"),
             ("agent", "退款会在仓库验货完成后处理，请您耐心等待。"),
             ("customer", "验货要验十天吗？能不能给个时间？"),
             ("agent", "已经为您催促仓库加快处理，请您留意退款通知。"),
             ("customer", "留意留意，我都留意十天了！你们是不是根本没在处理？"),
             ("agent", "退款都是按流程处理的，请您再耐心等待一下。"),
             ("customer", "按流程按流程……我就问一句，哪天到账？")]
    labels = {0: {"intensity": 2}, 1: {"violation": True}, 2: {"intensity": 2}, 3: {"violation": True},
              4: {"intensity": 2}, 5: {"violation": True}, 6: {"intensity": 2}}
    failing = assess(turns, labels)
    Escalation()(failing)
    assert failing.escalation.level == 1 and any("次回复未见成效" in r for r in failing.escalation.reasons)
    # a mild customer (intensity 1) who then gives up quietly: the agent's, by the guide
    mild = {i: ({"intensity": 1} if "intensity" in v else v) for i, v in labels.items()}
    quiet = assess(turns[:6] + [("customer", "那算了，我再等等看吧。")], mild)
    Escalation()(quiet)
    assert quiet.escalation.level == 0


def test_failing_replies_wait_for_the_customers_answer() -> None:
    """Issue 10 (ladder): `replies_failing` reads the violations the customer has answered. After a
    third failing reply the alert comes with the customer's next turn when they stay upset, and not
    when they give up on the matter ("算了 不弄了", "行吧……挺失望的"), whatever their intensity."""
    turns = [("customer", "耳机一边没声"), ("agent", "您好，建议您重启设备、重新配对后再试。"),
             ("customer", "试过了，还是没声"), ("agent", "请您提供一下订单号。"),
             ("customer", "2025112203388，你们看一下怎么处理"),
             ("agent", "运费需要您先垫付，这个价位的耳机我们不包来回运费的。")]
    labels = {0: {"intensity": 2}, 1: {"violation": True}, 2: {"intensity": 2}, 3: {"violation": True},
              4: {"intensity": 2}, 5: {"violation": True}}
    ladder = load_ladder()
    pending = assess(turns, labels)
    facts = ladder.timeline(pending, [])
    assert [f.answered_violations for f in facts] == [0, 0, 1, 1, 2, 2]
    assert facts[-1].agent_violations == 3
    Escalation()(pending)
    assert pending.escalation.level == 0  # the customer has not answered the third reply yet
    for last, alert in [("运费还要我出？你们到底管不管？", True), ("算了 不弄了", False),
                        ("行吧……一盒茶叶也不值几个钱，挺失望的", False)]:
        doc = assess(turns + [("customer", last)], {**labels, 6: {"intensity": 2}})
        Escalation()(doc)
        assert (doc.escalation.level >= 1) is alert, last
        if alert:
            assert any("3次回复未见成效" in r for r in doc.escalation.reasons)


@pytest.mark.parametrize("text,demand", [
    ("我说了我认识你们代言人！你们就这么对我？把能做主的人叫来", True),
    ("你把这事报给你们店长，让店长跟我说。", True),
    ("这是把我当傻子？叫你们理财中心的主任来跟我说", True),
    ("上次让经理看过了，说是正常的。", False),
])
def test_manager_requests_in_other_word_orders(text: str, demand: bool) -> None:
    ladder = load_ladder()
    facts = ladder.timeline(assess([("customer", text)]), [])
    assert (facts[-1].manager_requests >= 1) is demand, text
