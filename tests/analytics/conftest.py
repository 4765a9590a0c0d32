"""A small, hand-checked week of a service centre: 95598 power outages, telecom billing and
e-commerce refunds. Every figure the analytics tests expect can be worked out by hand
from these eight conversations and five tickets (see the comments)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from anfu.workflow.tickets import Ticket

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def conversation(cid, date, channel, team, agent, customer, *, end, calmed, level, quality=None):
    """An `anfu analyze` conversation object plus metadata; `customer` lists
    (text, emotion, intensity, cause, valence) per customer turn."""
    turns = []
    for text, emotion, intensity, cause, valence in customer:
        turns.append({"speaker": "customer", "text": text, "emotion": emotion, "intensity": intensity,
                      "cause": cause, "valence": valence, "abusive": False, "escalation_risk": (level or 0) >= 2,
                      "triggers": []})
        turns.append({"speaker": "agent", "violation": False, "findings": []})
    peak = max(t[2] for t in customer)
    out = {"id": cid, "turns": turns,
           "trajectory": {"start": customer[0][2], "peak": peak, "end": end, "trend": "falling"},
           "calmed": calmed, "date": date, "channel": channel}
    if level is not None:
        out["escalation"] = {"level": level, "reasons": []}
    if quality is not None:
        out["quality_score"] = quality
    out["meta"] = {"team": team, "agent": agent}
    return out


@pytest.fixture
def conversations() -> list[dict]:
    return [
        conversation("c1", "2025-07-01", "call", "95598一组", "王丽", [
            ("小区停电三天了！报了两次修都没人来，你们到底管不管？", "angry", 4, "outage", -0.95),
            ("那行吧，我等你们电话。", "neutral", 1, None, -0.1)], end=1, calmed=True, level=2, quality=86),
        conversation("c2", "2025-07-01", "webchat", "95598一组", "王丽", [
            ("这个月话费怎么多扣了58块？我从来没订过视频会员！", "dissatisfied", 3, "billing", -0.6)],
            end=3, calmed=False, level=1, quality=70),
        conversation("c3", "2025-07-01 20:15:00+08:00", "call", "95598二组", "李强", [
            ("家里突然没电了，冰箱里还有药，什么时候能来电？", "anxious", 2, "outage", -0.35)],
            end=1, calmed=False, level=0, quality=92),
        conversation("c4", "2025-07-02", "call", "95598二组", "李强", [
            ("又停电！这个月第三次了，再这样我就打12398投诉！", "angry", 4, "outage", -0.95),
            ("好吧，谢谢你这么快安排。", "satisfied", 1, None, 0.8)], end=1, calmed=True, level=1, quality=90),
        conversation("c5", "2025-07-02", "webchat", "95598一组", "张敏", [
            ("退货都签收七天了钱还没退回来，太让人失望了。", "disappointed", 3, "refund", -0.55),
            ("收到了，谢谢。", "satisfied", 0, None, 0.8)], end=0, calmed=True, level=0),
        conversation("c6", "2025-07-03", "app", "95598二组", "李强", [
            ("我想问一下电费账单在哪里下载。", "neutral", 0, None, 0.0)], end=0, calmed=False, level=0),
        conversation("c7", "2025-07-03", "call", "95598一组", "王丽", [
            ("乱扣费还不承认，你们这是欺诈！我要找你们领导！", "angry", 4, "billing", -0.95)],
            end=4, calmed=False, level=3, quality=55),
        # a chat analysed before the escalation component existed: no "escalation" field
        conversation("c8", "2025-07-03", "webchat", None, None, [
            ("快递显示签收了但我没收到，真的假的？", "doubtful", 1, "delivery", -0.3)],
            end=1, calmed=False, level=None),
    ]


def _ticket(tid, created, cause, priority, channel, owner, team, industry, summary):
    ticket, _ = Ticket.create(tid, customer_ref=f"客户-{tid}", channel=channel, cause=cause, priority=priority,
                              at=at(created), actor=owner, owner=owner, team=team, industry=industry,
                              summary=summary)
    return ticket


def _work(ticket, start, resolved):
    ticket.respond(at=at(start), actor=ticket.owner)
    for i, stage in enumerate(("确认问题", "提供方案", "执行方案"), start=1):
        ticket.advance_stage(stage, at=at(start).replace(minute=at(start).minute + i), actor=ticket.owner)
    ticket.resolve(at=at(resolved), actor=ticket.owner)


@pytest.fixture
def tickets() -> list[Ticket]:
    # T1: urgent outage call, answered in 20 min and resolved the same day; 5 points
    t1 = _ticket("T1", "2025-07-01 10:00", "outage", "urgent", "call", "王丽", "95598一组", "power", "小区停电三天")
    _work(t1, "2025-07-01 10:20", "2025-07-01 15:00")
    t1.record_survey(5, "抢修很及时", at=at("2025-07-02 10:00"), actor="customer")
    # T2: billing chat answered only on Monday 07-07 (response breached), 2 points
    # with a phone number in the comment -> reopened on 07-08 10:00
    t2 = _ticket("T2", "2025-07-01 16:00", "billing", "normal", "webchat", "王丽", "95598一组", "telecom",
                 "话费多扣58元")
    _work(t2, "2025-07-07 09:00", "2025-07-07 10:00")
    t2.record_survey(2, "退款太慢，客服电话13812345678一直打不通", at=at("2025-07-08 10:00"), actor="customer")
    t2.reopen(at=at("2025-07-08 10:00"), actor="customer", reason="满意度 2 分")
    # T3: high-priority outage call, answered and resolved on 07-02; 4 points
    t3 = _ticket("T3", "2025-07-02 09:00", "outage", "high", "call", "李强", "95598二组", "power", "一个月停电三次")
    _work(t3, "2025-07-02 09:30", "2025-07-02 16:00")
    t3.record_survey(4, "", at=at("2025-07-03 10:00"), actor="customer")
    # T4: refund chat never answered: response breached (due Thu 07-03 11:00) and still open
    t4 = _ticket("T4", "2025-07-02 11:00", "refund", "normal", "webchat", "张敏", "95598一组", "ecommerce",
                 "退货签收七天未退款")
    # T5: outage call answered in 30 min, now waiting on the customer
    t5 = _ticket("T5", "2025-07-03 10:00", "outage", "normal", "call", "李强", "95598二组", "power", "电压不稳")
    t5.respond(at=at("2025-07-03 10:30"), actor="李强")
    t5.wait_on_customer(at=at("2025-07-03 10:40"), actor="李强", note="约客户上门检测时间")
    return [t1, t2, t3, t4, t5]
