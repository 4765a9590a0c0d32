"""The wellbeing load's contact facts summed in SQL (anfu/store/contact_facts_repo.py, issue 13)
equal, shift for shift and contact for contact, the facts computed in Python from every stored
assessment's JSON (`anfu.wellbeing.contact_facts`, what /wellbeing and /wellbeing/team did
before), on SQLite and PostgreSQL: live windows, a later assessment with a shorter window that
must not override a reading, 负能量 raised by an earlier assessment only, abuse, gaps over the cap,
microsecond timestamps, a conversation without messages, and the access rules (an agent sees
their own contacts, a supervisor their team's, never another tenant's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from anfu.store import Principal, Store
from anfu.store.contact_facts_repo import ContactFactsStore
from anfu.types import Conversation, Utterance
from anfu.wellbeing import contact_facts, load_wellbeing_rules, shifts
from anfu.wellbeing.load import _minutes

START = datetime(2026, 12, 5, 1, 0, 3, 123457, tzinfo=timezone.utc)
CHATS = [
    ["我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？", "非常抱歉给您带来不便，我马上为您催办抢修。",
     "你们就是一群废物，骗子公司！", "理解您的心情，抢修人员已经出发，预计两小时内到达。", "好吧，那我再等等。"],
    ["你好，宽带从早上就断了，到底什么时候能修好？", "这是规定，您再等等吧。", "什么态度！我要投诉你们！"],
    ["我买的洗衣机坏了，客服一直不回复，太让人失望了。", "很抱歉让您久等了，我这就为您登记上门维修。", "谢谢，辛苦了。"],
]
# minutes between messages: one gap over max_gap_minutes (15), fractions of a second everywhere
GAPS = [0.0, 1.25, 3.000001, 40.5, 2.2, 0.7]


def _python_contacts(store: Store, principal: Principal, since: datetime, agent_id: int | None) -> list[Any]:
    """The computation the pages did before: every message and assessment in Python."""
    conversations = [c for c in store.list_conversations(principal, page_size=200).items
                     if c.agent_id is not None and c.updated_at >= since and agent_id in (None, c.agent_id)]
    ids = [c.id for c in conversations]
    messages = store.messages_of_conversations(principal, ids)
    assessments = store.assessments_of_conversations(principal, ids)
    out = []
    for c in conversations:
        facts = contact_facts(c, messages.get(c.id, []), assessments.get(c.id, []))
        if facts is not None:
            out.append(facts)
    return out


def _same(python: list[Any], sql: list[Any]) -> None:
    rules = load_wellbeing_rules()
    assert sorted(f.contact_id for f in python) == sorted(f.contact_id for f in sql)
    by_id = {f.contact_id: f for f in sql}
    for p in python:
        s = by_id[p.contact_id]
        assert (s.agent_id, s.started_at, s.ended_at, s.negative_energy, s.escalation_level, s.peak_intensity,
                s.abusive) == (p.agent_id, p.started_at, p.ended_at, p.negative_energy, p.escalation_level,
                               p.peak_intensity, p.abusive), p.contact_id
        assert _minutes(s, rules) == pytest.approx(_minutes(p, rules), abs=1e-9)
    assert [x.to_dict(with_contacts=True) for x in shifts(sql)] == [x.to_dict(with_contacts=True) for x in shifts(python)]


def test_sql_contact_facts_equal_the_python_computation(store: Store, analyzer: Any) -> None:
    s = Store(store.engine, clock=lambda: START + timedelta(hours=3))
    tenant = s.create_tenant("care-sql", "关怀租户")
    other = s.create_tenant("care-sql-b", "另一租户")
    team, team2 = s.create_team(tenant.id, "电力组"), s.create_team(tenant.id, "电商组")
    li = s.create_user(tenant.id, "care-li", "x", "agent", team_id=team.id)
    zhao = s.create_user(tenant.id, "care-zhao", "x", "agent", team_id=team.id)
    sun = s.create_user(tenant.id, "care-sun", "x", "agent", team_id=team2.id)
    stranger = s.create_user(other.id, "care-wu", "x", "agent")
    placements = [(team, li), (team, zhao), (team2, sun), (team, li), (None, stranger)]
    made = []
    for n, (where, agent) in enumerate(placements):
        texts = CHATS[n % len(CHATS)]
        conv = s.create_conversation(agent.tenant_id, team_id=where.id if where else None, agent_id=agent.id,
                                     status="closed")
        at = START + timedelta(minutes=30 * n)
        for i, text in enumerate(texts):
            at += timedelta(minutes=GAPS[i % len(GAPS)])
            s.append_message(conv.id, "customer" if i % 2 == 0 else "agent", text, sent_at=at)
        doc = Conversation(turns=tuple(Utterance(t, speaker="customer" if i % 2 == 0 else "agent")
                                       for i, t in enumerate(texts)), id=str(conv.id), industry="power")
        data = analyzer(doc).to_dict()
        if n == 0:
            # live windows: an early one flags 负能量 and reads turn 1 as abusive, the full one does not
            early = {"turns": [{**data["turns"][0], "abusive": True, "intensity": 4}],
                     "negative_energy": {"flag": True}}
            s.save_assessment(conv.id, early, upto_seq=1)
            s.save_assessment(conv.id, {**data, "negative_energy": {"flag": False}}, upto_seq=len(texts))
            # saved later but with a shorter window: must not replace the full assessment's readings
            s.save_assessment(conv.id, {"turns": [{"speaker": "customer", "emotion": "satisfied", "intensity": 0}]},
                              upto_seq=1)
        else:
            s.save_assessment(conv.id, data, upto_seq=len(texts))
        made.append(conv)
    s.create_conversation(tenant.id, team_id=team.id, agent_id=li.id)  # no messages: no contact
    s.create_conversation(tenant.id, team_id=team.id)  # nobody handled it: no contact

    rules = load_wellbeing_rules()
    sql_store = ContactFactsStore(s.engine)
    since = START - timedelta(days=1)
    admin = Principal(tenant_id=tenant.id, role="admin", name="admin")
    supervisor = Principal(tenant_id=tenant.id, role="supervisor", team_id=team.id, name="sup")
    agent = Principal.of_user(li)
    for who, agent_id in ((admin, None), (supervisor, None), (agent, li.id), (admin, zhao.id)):
        sql = sql_store.contacts(who, since=since, rules=rules, agent_id=agent_id)
        _same(_python_contacts(s, who, since, agent_id), sql)

    everyone = {f.contact_id for f in sql_store.contacts(admin, since=since, rules=rules)}
    assert everyone == {str(c.id) for c in made[:4]}  # not the other tenant's, not the empty ones
    assert {f.contact_id for f in sql_store.contacts(supervisor, since=since, rules=rules)} == \
        {str(made[0].id), str(made[1].id), str(made[3].id)}
    assert {f.contact_id for f in sql_store.contacts(agent, since=since, rules=rules)} == \
        {str(made[0].id), str(made[3].id)}
    first = next(f for f in sql_store.contacts(agent, since=since, rules=rules) if f.contact_id == str(made[0].id))
    assert first.negative_energy  # from the early assessment only
    assert first.summed is not None and first.summed.angry_minutes > 0
    assert sql_store.contacts(admin, since=START + timedelta(days=1), rules=rules) == []


def _facts_tables(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import select

    from anfu.store.facts_tables import ConversationFactsRow, TurnFactsRow
    from anfu.store.tables import AssessmentRow

    t, f, a = TurnFactsRow, ConversationFactsRow, AssessmentRow
    with engine.connect() as conn:
        return {"turn_facts": conn.execute(select(t.conversation_id, t.seq, t.emotion, t.intensity, t.abusive,
                                                  t.upto_seq, t.assessment_id).order_by(t.conversation_id, t.seq)).all(),
                "violations": conn.execute(select(f.conversation_id, f.violations).order_by(f.conversation_id)).all(),
                "negative_energy": conn.execute(select(a.id, a.negative_energy).order_by(a.id)).all()}


def test_migration_backfills_what_the_store_writes(tmp_path: Any, analyzer: Any) -> None:
    """0009_page_indexes fills turn_facts, conversation_facts.violations and
    assessments.negative_energy from the stored assessments exactly as the store writes them."""
    from anfu.store import downgrade, make_engine, upgrade

    engine = make_engine(url=f"sqlite:///{tmp_path / 'anfu.db'}")
    upgrade(engine)
    s = Store(engine)
    tenant = s.create_tenant("care-mig", "迁移租户")
    agent = s.create_user(tenant.id, "care-mig-li", "x", "agent")
    for n, texts in enumerate(CHATS):
        conv = s.create_conversation(tenant.id, agent_id=agent.id)
        for i, text in enumerate(texts):
            s.append_message(conv.id, "customer" if i % 2 == 0 else "agent", text,
                             sent_at=START + timedelta(minutes=i))
        data = analyzer(Conversation.from_texts([("customer" if i % 2 == 0 else "agent", t)
                                                 for i, t in enumerate(texts)])).to_dict()
        s.save_assessment(conv.id, {**data, "negative_energy": {"flag": n == 0}}, upto_seq=len(texts))
        s.save_assessment(conv.id, {"turns": [{"speaker": "customer", "emotion": "angry", "intensity": 3,
                                               "violation": None}]}, upto_seq=1)
    written = _facts_tables(engine)
    assert written["turn_facts"] and any(v for _, v in written["negative_energy"])
    assert [v for _, v in written["violations"]] == [0, 0, 0]  # the newest (short) windows have none
    downgrade(engine, "0008")
    upgrade(engine)
    assert _facts_tables(engine) == written
    engine.dispose()


def test_review_facts_equal_the_newest_assessment(store: Store, analyzer: Any) -> None:
    """The 质检复核 queue's quality score and violation count come from the facts row and equal
    what the newest assessment's JSON says; another team's and tenant's conversations are absent."""
    from anfu.store.facts_repo import FactsStore, violations_of

    tenant = store.create_tenant("care-review", "质检租户")
    other = store.create_tenant("care-review-b", "另一租户")
    team, team2 = store.create_team(tenant.id, "一组"), store.create_team(tenant.id, "二组")
    made = []
    for n, texts in enumerate(CHATS):
        for where, tid in ((tenant.id, team.id), (tenant.id, team2.id), (other.id, None)):
            conv = store.create_conversation(where, team_id=tid)
            for i, text in enumerate(texts):
                store.append_message(conv.id, "customer" if i % 2 == 0 else "agent", text)
            doc = Conversation.from_texts([("customer" if i % 2 == 0 else "agent", t) for i, t in enumerate(texts)])
            data = analyzer(doc).to_dict()
            if n == 1:  # a forbidden phrase marked on the agent turn
                data["turns"][1] = {**data["turns"][1], "violation": True}
            store.save_assessment(conv.id, data)
            made.append((conv, tid))
    supervisor = Principal(tenant_id=tenant.id, role="supervisor", team_id=team.id, name="sup")
    ids = [c.id for c, _ in made]
    facts = FactsStore(store.engine).of_conversations(supervisor, ids)
    assert set(facts) == {c.id for c, tid in made if tid == team.id}
    for cid, f in facts.items():
        latest = store.latest_assessment(cid)
        assert (f.quality_score, f.violations) == (latest.data.get("quality_score"), violations_of(latest.data))
    assert any(f.violations for f in facts.values())
