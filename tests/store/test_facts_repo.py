"""The dashboards' facts (anfu/store/facts_repo.py, issue 13): every stored assessment writes its
conversation's facts in the same transaction (save_assessment and the live turn), and the report
summed in SQL per day, channel, team and agent equals, figure for figure, the report computed
in Python from each conversation's newest assessment, under the same access rules, on SQLite and
PostgreSQL. Days are local (Asia/Shanghai): a chat at 23:30 UTC counts on the next day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from anfu.analytics import build_report
from anfu.service.desk import TicketDesk
from anfu.service.live import Hub
from anfu.service.reports import agent_labels, make_report
from anfu.store import Principal, Store, WorkflowStore
from anfu.store.facts_repo import FactsStore
from anfu.types import Conversation, Utterance

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)
CHATS = [
    ("power", "webchat", ["我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？",
                          "非常抱歉给您带来不便，我马上为您催办抢修，预计两小时内到达。", "好吧，那我再等等。"]),
    ("power", "call", ["你好，是95598吗？从早上八点就停电了，冰箱里的东西都要坏了，到底什么时候能修好？",
                       "这是我们公司的规定，抢修要排队，您再等等吧。", "什么态度！我要打12345投诉你们！"]),
    ("ecommerce", "webchat", ["我买的洗衣机坏了，客服一直不回复，太让人失望了。",
                              "很抱歉让您久等了，我这就为您登记上门维修。", "谢谢，辛苦了。"]),
    ("telecom", "email", ["宽带已经断了两天，每次打电话都说在处理，到底还要等多久？"]),
]


def _analysed(analyzer: Any) -> list[dict[str, Any]]:
    docs = [Conversation(turns=tuple(Utterance(t, speaker="customer" if i % 2 == 0 else "agent")
                                     for i, t in enumerate(texts)), id=str(n), channel=channel, industry=industry)
            for n, (industry, channel, texts) in enumerate(CHATS)]
    return [a.to_dict() for a in analyzer.pipe(docs)]


def _python_report(store: Store, principal: Principal, teams: dict[int, str], users: dict[int, str]) -> Any:
    """The report as it was computed before the facts: each visible conversation's newest assessment."""
    items = []
    for c in store.list_conversations(principal, page_size=200).items:
        latest = store.latest_assessment(c.id)
        if latest is None or "turns" not in latest.data:
            continue
        items.append({**latest.data, "id": str(c.id), "date": c.created_at.isoformat(), "channel": c.channel,
                      "team": teams.get(c.team_id), "agent": users.get(c.agent_id)})
    return build_report(items, [], now=NOW)


def _close(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    elif isinstance(a, float):
        assert b == pytest.approx(a)
    else:
        assert a == b


def test_facts_summed_in_sql_give_the_python_report(store: Store, analyzer: Any) -> None:
    clock = [NOW]
    s = Store(store.engine, clock=lambda: clock[0])
    tenant = s.create_tenant("facts", "报表租户")
    other_tenant = s.create_tenant("facts-b", "另一租户")
    power, shop = s.create_team(tenant.id, "电力组"), s.create_team(tenant.id, "电商组")
    li = s.create_user(tenant.id, "li", "x", "agent", team_id=power.id, display_name="李强")
    zhao = s.create_user(tenant.id, "zhao", "x", "agent", team_id=power.id, display_name="李强")  # same name
    sun = s.create_user(tenant.id, "sun", "x", "agent", team_id=shop.id, display_name="孙悦")
    admin = Principal(tenant_id=tenant.id, role="admin", name="admin")
    supervisor = Principal(tenant_id=tenant.id, role="supervisor", team_id=power.id, user_id=None, name="sup")
    data = _analysed(analyzer)
    placements = [(power, li), (power, zhao), (shop, sun), (power, None)]
    made = []
    for day in range(3):
        for n, (team, agent) in enumerate(placements):
            clock[0] = NOW - timedelta(days=day, hours=n * 5)       # some cross midnight in Shanghai
            c = s.create_conversation(tenant.id, channel=CHATS[n][1], industry=CHATS[n][0], team_id=team.id,
                                      agent_id=agent.id if agent else None)
            s.append_message(c.id, "customer", CHATS[n][2][0])
            s.save_assessment(c.id, data[(n + day) % len(data)])
            made.append(c)
    # an older assessment replaced by a newer one; an utterance-level result has no facts
    s.save_assessment(made[0].id, data[1])
    single = {k: v for k, v in data[0].items() if k != "turns"}
    s.save_assessment(made[1].id, single)
    # another tenant's conversation never counts
    foreign = s.create_conversation(other_tenant.id, channel="webchat")
    s.save_assessment(foreign.id, data[1])
    teams = {power.id: power.name, shop.id: shop.name}
    labels = agent_labels(s.list_users(tenant.id))
    users = {u.id: labels[u.username] for u in s.list_users(tenant.id)}
    desk = TicketDesk(s, WorkflowStore(s.engine), Hub(), "facts-test-secret-key-0123456789abcdef")
    for principal in (admin, supervisor):
        expected = _python_report(s, principal, teams, users).to_dict()
        got, options = make_report(s, desk, principal, {}, now=NOW)
        got_dict = got.to_dict()
        for key in ("generated_at", "filters"):
            expected.pop(key), got_dict.pop(key)
        _close(expected, got_dict)
        assert got.conversations == (len(made) - 1 if principal is admin else 8)
    assert {"李强（li）", "李强（zhao）"} <= set(options["agents"]) | {r["agent"] for r in got.to_dict()["agents"]}
    filtered, _ = make_report(s, desk, admin, {"team": "电商组", "date_from": "2026-12-05"}, now=NOW)
    assert filtered.conversations == sum(1 for c in made if c.team_id == shop.id and
                                         (c.created_at + timedelta(hours=8)).date().isoformat() >= "2026-12-05")


def test_the_live_turn_writes_the_facts_with_its_assessment(store: Store) -> None:
    tenant = store.create_tenant("facts-live", "实时租户")
    c = store.create_conversation(tenant.id, channel="webchat")
    angry = {"turns": [{"speaker": "customer", "emotion": "angry", "intensity": 4, "valence": -0.9, "cause": "outage"}],
             "trajectory": {"peak": 4, "end": 4}, "calmed": False, "escalation": {"level": 2}, "quality_score": 40}
    store.append_turn(c.id, "customer", "停电三天了还没人来修，再不来我就打12345投诉！", lambda conv, window: (angry, []))
    calm = {"turns": [*angry["turns"], {"speaker": "agent"},
                      {"speaker": "customer", "emotion": "satisfied", "intensity": 1, "valence": 0.5, "cause": "outage"}],
            "trajectory": {"peak": 4, "end": 1}, "calmed": True, "escalation": {"level": 2}, "quality_score": 85}
    store.append_turn(c.id, "customer", "好的，谢谢你们这么快就安排了。", lambda conv, window: (calm, []))
    admin = Principal(tenant_id=tenant.id, role="admin", name="admin")
    [row] = FactsStore(store.engine).sums(admin, utc_offset_minutes=480)
    assert (row.conversations, row.peak_sum, row.end_sum, row.strong, row.calm_eligible, row.calmed) == (1, 4, 1, 1, 1, 1)
    assert (row.escalated, row.quality_sum, row.emotions, row.causes) == (1, 85, {"angry": 1, "satisfied": 1},
                                                                          {"outage": 1})
    assert row.valence_sum == pytest.approx(-0.2)
    agent = Principal(tenant_id=tenant.id, role="agent", user_id=999, name="nobody")
    assert FactsStore(store.engine).sums(agent, utc_offset_minutes=480) == []
