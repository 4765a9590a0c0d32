"""anfu.escalation.v1 as data: when the 班长 is alerted inside real-shaped conversations (issue 10).

The ladder alerts when the customer's state needs a supervisor (sustained or extreme emotion while
the agent's replies keep failing, threats, abuse, a demand for a manager, repeat contacts), not
while the agent's handling visibly works. The rules were chosen by error analysis on the training
fold of the written conversations; the floor test below runs the shipped pipeline on that fold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anfu.components.escalation import Escalation, load_ladder
from anfu.text.normalize import normalize
from anfu.types import Assessment, Conversation, Trigger

ROOT = Path(__file__).resolve().parents[2]


def assess(turns: list[tuple[str, str]], labels: dict[int, dict[str, Any]]) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="alert-1"))
    for index, values in labels.items():
        for key, value in values.items():
            setattr(doc.turns[index], key, value)
    return doc


def level(doc: Assessment) -> int:
    assert doc.escalation is not None
    return doc.escalation.level


def reasons(doc: Assessment) -> list[str]:
    assert doc.escalation is not None
    return list(doc.escalation.reasons)


# An outage call: the customer stays at intensity 3 for three turns while the agent works it.
OUTAGE = [
    ("customer", "你们95598是干什么吃的？我们小区下午两点停电到现在，三个小时了，一个通知都没有！"),
    ("agent", "先生您好，停了三个小时还没收到通知，换谁都着急，实在抱歉。麻烦您告诉我小区地址，我马上查。"),
    ("customer", "滨江路锦绣华庭。你别跟我说什么计划检修，计划检修要提前七天公告，你们根本没贴！"),
    ("agent", "您说得对。查到了，这一片是下午一点五十线路故障跳闸，不是计划停电，所以没有提前通知。"),
    ("customer", "故障？故障就能停三个小时？你们抢修的人是不是还在路上喝茶呢？"),
    ("agent", "抢修班组两点二十已经到现场，正在更换电缆头，预计晚上七点前恢复，恢复后短信通知您。"),
    ("customer", "七点？行，七点前要是还没来电，我还得打过来。"),
]
OUTAGE_INTENSITY = {0: {"intensity": 3}, 2: {"intensity": 3}, 4: {"intensity": 3}, 6: {"intensity": 2}}
# the same customer turns answered by replies the pre-send check judges violations
FAILING = {1: {"violation": True}, 3: {"violation": True}, 5: {"violation": True}}


def test_sustained_anger_while_the_agent_works_it_stays_with_the_agent() -> None:
    doc = assess(OUTAGE, {**OUTAGE_INTENSITY, 1: {"violation": False}, 3: {"violation": False},
                          5: {"violation": False}})
    Escalation()(doc)
    assert level(doc) == 0, reasons(doc)


def test_sustained_anger_with_failing_replies_alerts_the_team_lead() -> None:
    doc = assess(OUTAGE, {**OUTAGE_INTENSITY, **FAILING})
    Escalation()(doc)
    assert level(doc) >= 1
    assert any("未见成效" in r for r in reasons(doc))


def test_extreme_anger_alerts_once_a_reply_has_missed_and_always_when_it_persists() -> None:
    turns = [("customer", "我宝宝才八个月，自来水一股消毒水味，喝了会不会中毒？！"),
             ("agent", "自来水都有点味道的，没事的，您想多了。"),
             ("customer", "什么叫我想多了？我是孩子妈妈！你们就这么敷衍？！")]
    good = assess(turns, {0: {"intensity": 2}, 1: {"violation": False}, 2: {"intensity": 4}})
    Escalation()(good)
    assert level(good) == 0
    missed = assess(turns, {0: {"intensity": 2}, 1: {"violation": True}, 2: {"intensity": 4}})
    Escalation()(missed)
    assert level(missed) == 1 and any("极其激动" in r for r in reasons(missed))
    persisting = assess(turns, {0: {"intensity": 4}, 1: {"violation": False}, 2: {"intensity": 4}})
    Escalation()(persisting)
    assert level(persisting) == 2


@pytest.mark.parametrize("text", ["我预售的礼服到现在还没发！叫你们店长来跟我说", "我要找你们领导，你处理不了",
                                  "让你们老板出来说话", "换个能做主的人来",
                                  "我要求查看表决记录和备案文件，请安排负责人答复。"])
def test_a_demand_for_a_manager_alerts_the_team_lead(text: str) -> None:
    doc = assess([("customer", text)], {0: {"intensity": 2}})
    Escalation()(doc)
    assert level(doc) == 1 and any("领导" in r for r in reasons(doc))


@pytest.mark.parametrize("text", ["我和你们总经理也打过交道，你们看着办", "你们经理在我面前都客客气气的",
                                  "店长人挺好的，就是这个规定不合理"])
def test_mentioning_a_manager_is_not_a_demand(text: str) -> None:
    doc = assess([("customer", text)], {0: {"intensity": 2}})
    Escalation()(doc)
    assert level(doc) == 0


def test_a_repeat_contact_in_passing_counts() -> None:
    ladder = load_ladder()
    assert ladder.contacts_in("上个礼拜打过一次了，也是这样") == 2
    assert ladder.contacts_in("之前已经反映过，到现在也没人管") == 2
    assert ladder.contacts_in("我上次买的那台挺好的") == 1
    doc = assess([("customer", "报装的事"), ("agent", "那您想好了再打过来吧。"),
                  ("customer", "上个礼拜打过一次了，也是这样")],
                 {0: {"intensity": 0}, 1: {"violation": True}, 2: {"intensity": 2}})
    Escalation()(doc)
    assert level(doc) == 1 and any("联系" in r for r in reasons(doc))


def test_a_stated_wait_alerts_only_once_a_reply_has_missed() -> None:
    turns = [("customer", "你好，我网上办的新号卡说三天到，今天第五天了还没来，哈哈，是不是忘了我"),
             ("agent", "会尽快给您处理的。")]
    doc = assess(turns, {0: {"intensity": 1}, 1: {"violation": False}})
    Escalation()(doc)
    assert level(doc) == 0
    # a missed reply to a customer still at ease is the agent's to mend
    doc = assess(turns + [("customer", "那大概是什么时候呢")],
                 {0: {"intensity": 1}, 1: {"violation": True}, 2: {"intensity": 1}})
    Escalation()(doc)
    assert level(doc) == 0
    # once the customer is upset it needs the team lead
    doc = assess(turns + [("customer", "尽快是多快？都五天了，到底还寄不寄？")],
                 {0: {"intensity": 1}, 1: {"violation": True}, 2: {"intensity": 2}})
    Escalation()(doc)
    assert level(doc) == 1 and any("等待" in r for r in reasons(doc))


def test_training_fold_of_written_conversations_floor() -> None:
    """The shipped pipeline on the written conversations' training fold (the fold the rules were
    chosen on): every needed alert but the risk model's misses is raised, and few extra ones
    (before issue 10's rules: precision 0.64, recall 0.97)."""
    import anfu
    from anfu.training.data import is_heldout

    convs = [json.loads(line) for path in sorted((ROOT / "corpus" / "conversations").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    convs = [c for c in convs if not is_heldout(c["id"])]
    docs = anfu.load().pipe([Conversation.from_texts([(t["speaker"], t["text"]) for t in c["turns"]], id=c["id"])
                             for c in convs], batch_size=32)
    gold, pred = [], []
    for conv, doc in zip(convs, docs):
        gold.append(bool(conv["supervisor_alert"]))
        pred.append(level(doc) >= 1)
    tp = sum(g and p for g, p in zip(gold, pred))
    assert tp / sum(pred) >= 0.82
    assert tp / sum(gold) >= 0.96


# demands for a manager and repeat contacts come in many word orders; each alerts at once
@pytest.mark.parametrize("text", [
    "你别跟我扯了，把你们经理叫过来！",
    "让你们主管给我回个电话，我跟你说不清楚。",
    "我要跟你们领导谈，你这边我不想再说了。",
    "你做不了主就换个能做主的人来。",
    "麻烦直接转给你们值班经理。",
])
def test_a_demand_for_a_manager_in_other_word_orders_alerts(text: str) -> None:
    doc = assess([("customer", "我家宽带断了两天了。"), ("agent", "您好，我帮您查一下。"), ("customer", text)],
                 {0: {"intensity": 2}, 2: {"intensity": 3}})
    Escalation()(doc)
    assert level(doc) >= 1 and any("领导" in r for r in reasons(doc)), reasons(doc)


@pytest.mark.parametrize("text", [
    "这已经是第三次报修了，空调还是不制冷。",
    "前天下午就打过电话，说好第二天来人，结果没人来。",
    "这事我都反映了好几次了，到现在还没人管。",
    "上次打过电话，说是已经修好了，结果今天又不制冷了。",
])
def test_repeat_contacts_said_in_passing_alert(text: str) -> None:
    # counted from the words; a repeat contact alerts once a reply misses (a third one at once)
    assert load_ladder().contacts_in(normalize(text)) >= 2
    doc = assess([("customer", text), ("agent", "请您耐心等待。")], {0: {"intensity": 2}, 1: {"violation": True}})
    Escalation()(doc)
    assert level(doc) >= 1 and any("联系" in r for r in reasons(doc)), reasons(doc)


@pytest.mark.parametrize("text", ["我和你们总经理以前打过交道，人挺好的。", "领导说了下周处理，那我等通知。",
                                  "上次打过电话，已经给我修好了，这次是想问问电费。"])
def test_mentioning_a_manager_or_a_past_call_that_worked_is_not_an_alert(text: str) -> None:
    doc = assess([("customer", text), ("agent", "好的，我帮您看一下。")], {0: {"intensity": 0}})
    Escalation()(doc)
    assert level(doc) == 0, reasons(doc)


def test_a_complaint_to_the_company_is_the_agents_while_the_replies_work() -> None:
    """A threat to complain to the company itself (投诉 a staff member) alerts the team lead only
    once a reply misses, the customer is extremely agitated, or the threat comes again; a threat to
    go to an outside body (a regulator, the media, the police, a court) alerts at once."""
    opening = [("customer", "我要投诉你们服务大厅3号窗口那个人！排了一个小时队，她连哪里不对都不说"),
               ("agent", "排了一个小时，结果连哪里不对都不告诉您，确实不对，我先代她向您道歉。您办的是什么业务？")]
    internal = [Trigger("escalation", "complaint", 1, 3, "投诉", "escalation.complaint:投诉")]
    handled = assess(opening, {0: {"intensity": 3, "escalation_risk": True, "triggers": internal},
                               1: {"violation": False}})
    Escalation()(handled)
    assert level(handled) == 0
    missed = assess(opening, {0: {"intensity": 3, "escalation_risk": True, "triggers": internal},
                              1: {"violation": True}})
    Escalation()(missed)
    assert level(missed) == 1 and any("未见成效" in r for r in reasons(missed))
    extreme = assess(opening, {0: {"intensity": 4, "escalation_risk": True, "triggers": internal},
                               1: {"violation": False}})
    Escalation()(extreme)
    assert level(extreme) == 1
    outside = [Trigger("escalation", "media", 0, 3, "找记者", "escalation.media.pattern2")]
    media = assess([("customer", "你们再不赔，我就找记者来评评理"), ("agent", "您别急，我马上给您查。")],
                   {0: {"intensity": 3, "escalation_risk": True, "triggers": outside}, 1: {"violation": False}})
    Escalation()(media)
    assert level(media) == 1 and reasons(media) == ["客户表示要投诉或向外部反映"]


def test_the_shipped_pipeline_tells_a_complaint_from_an_outside_threat() -> None:
    from anfu import load

    analyzer = load()
    reply = "非常抱歉，这样确实不对，我马上帮您核实并登记投诉，请问您的订单号是多少？"
    complaint = analyzer(Conversation.from_texts([
        ("customer", "我要投诉你们那个安装师傅，约好上午来，到下午都没人，电话也不接。"),
        ("agent", reply), ("customer", "12345678")], id="esc-internal"))
    assert complaint.turns[0].escalation_risk is True and complaint.turns[0].intensity == 3
    assert complaint.escalation.level == 0
    regulator = analyzer(Conversation.from_texts([
        ("customer", "我三天前报的漏水，到现在没人来！你们再不来我就打市长热线，还要找电视台来拍！"),
        ("agent", "非常抱歉让您等了三天，我马上联系抢修班组。")], id="esc-outside"))
    assert regulator.escalation.level >= 1
