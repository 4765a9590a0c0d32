"""A fixed sample fortnight (July 2025) of a service centre (95598 power, telecom billing,
e-commerce refunds) for the exporter tests: assessments and tickets whose figures do not
depend on today's date. The live demo (`anfu serve --demo`) uses anfu/demo/fortnight.py.
Same seed, same data: assessments shaped like `anfu analyze` output plus metadata, and
tickets that went through the real ticket workflow (SOP, SLA pauses, surveys, reopens).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from anfu.workflow.tickets import Ticket

TZ = ZoneInfo("Asia/Shanghai")

# (industry, cause, opening complaint, emotion, intensity, valence)
OPENINGS: tuple[tuple[str, str, str, str, int, float], ...] = (
    ("power", "outage", "小区停电三天了！报了两次修都没人来，你们到底管不管？", "angry", 4, -0.95),
    ("power", "outage", "家里突然没电了，冰箱里还有胰岛素，什么时候能来电？", "anxious", 3, -0.5),
    ("power", "billing", "这个月电费怎么翻倍了？是不是抄错表了？", "doubtful", 2, -0.3),
    ("power", "repair", "报修的电表箱到现在还没人来换，都一个星期了。", "dissatisfied", 3, -0.6),
    ("telecom", "billing", "话费怎么多扣了58块？我从来没订过什么视频会员！", "dissatisfied", 3, -0.6),
    ("telecom", "outage", "家里宽带断了一整天，我在家办公全耽误了。", "angry", 4, -0.9),
    ("telecom", "attitude", "上次那个客服说话很冲，问两句就挂我电话。", "angry", 3, -0.85),
    ("ecommerce", "refund", "退货都签收七天了，钱还没退回来，太让人失望了。", "disappointed", 3, -0.55),
    ("ecommerce", "delivery", "快递显示签收了但我根本没收到，怎么回事？", "doubtful", 2, -0.35),
    ("ecommerce", "quality", "新买的电饭煲用了三天就坏了，这质量也太差了。", "dissatisfied", 3, -0.6),
)
CLOSINGS = (("好的，谢谢你这么快处理。", "satisfied", 0, 0.8), ("行吧，我等你们消息。", "neutral", 1, -0.1),
            ("你们每次都这么说，一点用都没有！", "angry", 4, -0.9))
TEAMS = {"95598一组": ("王丽", "赵敏", "陈静"), "95598二组": ("李强", "刘洋", "孙悦")}
CHANNELS = ("call", "webchat", "app")
COMMENTS = {5: "处理很及时，态度也好", 4: "问题解决了，就是等得有点久", 3: "一般吧",
            2: "退款太慢了，打了三次电话，我的手机号13812345678一直没人回", 1: "根本没解决，问题还在，还要我打几次电话？"}


def _agents() -> list[tuple[str, str]]:
    return [(team, agent) for team, agents in TEAMS.items() for agent in agents]


def demo_dataset(start: date = date(2025, 7, 7), days: int = 14, per_day: int = 6,
                 seed: int = 7) -> tuple[list[dict[str, Any]], list[Ticket]]:
    """(assessments, tickets) for `days` days from `start`."""
    rng = random.Random(seed)
    staff = _agents()
    assessments: list[dict[str, Any]] = []
    tickets: list[Ticket] = []
    for d in range(days):
        day = start + timedelta(days=d)
        for n in range(per_day + rng.randint(-2, 2)):
            industry, cause, text, emotion, intensity, valence = rng.choice(OPENINGS)
            closing = rng.choices(CLOSINGS, weights=(5, 3, 2))[0]
            team, agent = rng.choice(staff)
            channel = rng.choice(CHANNELS)
            calmed = closing[2] <= 1 and intensity >= 2
            level = 0 if intensity < 3 else (rng.choice((0, 1, 1, 2)) if closing[2] <= 1 else rng.choice((2, 3)))
            cid = f"demo-{day:%m%d}-{n:02d}"
            assessments.append({
                "id": cid, "date": day.isoformat(), "channel": channel, "team": team, "agent": agent,
                "industry": industry,
                "turns": [
                    {"speaker": "customer", "text": text, "emotion": emotion, "intensity": intensity,
                     "valence": valence, "cause": cause},
                    {"speaker": "agent", "text": "非常抱歉给您带来不便，我马上为您核实处理。", "violation": False,
                     "findings": []},
                    {"speaker": "customer", "text": closing[0], "emotion": closing[1], "intensity": closing[2],
                     "valence": closing[3], "cause": None},
                ],
                "trajectory": {"start": intensity, "peak": max(intensity, closing[2]), "end": closing[2],
                               "trend": "falling" if closing[2] < intensity else "flat"},
                "calmed": calmed, "escalation": {"level": level, "reasons": []},
                "quality_score": rng.randint(55, 98),
            })
            if intensity >= 3:
                tickets.append(_demo_ticket(rng, cid, day, n, industry, cause, channel, team, agent, text))
    return assessments, tickets


def _demo_ticket(rng: random.Random, cid: str, day: date, n: int, industry: str, cause: str, channel: str,
                 team: str, agent: str, text: str) -> Ticket:
    created = datetime.combine(day, time(9 + n % 8, rng.choice((0, 15, 30, 45))), tzinfo=TZ)
    priority = "urgent" if cause == "outage" and industry == "power" else rng.choice(("normal", "normal", "high"))
    ticket, _ = Ticket.create(f"TS-{day:%Y%m%d}-{n:04d}", customer_ref=f"客户{rng.randint(1000, 9999)}",
                              channel=channel, cause=cause, priority=priority, at=created, actor=agent,
                              owner=agent, team=team, industry=industry, conversation_ref=cid, summary=text)
    fate = rng.random()
    if fate < 0.1:
        return ticket  # not answered yet
    clock = created + timedelta(minutes=rng.choice((10, 40, 90, 60 * 30)))
    ticket.respond(at=clock, actor=agent)
    for stage in ("确认问题", "提供方案", "执行方案"):
        clock += timedelta(minutes=rng.randint(5, 120))
        ticket.advance_stage(stage, at=clock, actor=agent)
    if fate < 0.25:
        ticket.wait_on_customer(at=clock + timedelta(minutes=5), actor=agent, note="等待客户提供材料")
        return ticket
    clock += timedelta(hours=rng.choice((1, 3, 20)))
    ticket.resolve(at=clock, actor=agent)
    score = rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 12, 8, 5))[0]
    clock += timedelta(days=1)
    ticket.record_survey(score, COMMENTS[score], at=clock, actor="customer")
    if score <= 2:
        ticket.reopen(at=clock, actor="customer", reason=f"满意度 {score} 分")
    elif rng.random() < 0.7:
        ticket.close(at=clock + timedelta(hours=1), actor=agent)
    return ticket
