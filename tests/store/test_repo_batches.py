"""Reads of many conversations at once (Store.messages_of_conversations,
assessments_of_conversations, WorkflowStore.tickets_of_conversations: the wellbeing pages read a
fortnight of contacts with three queries, not three per conversation): the same access rules as
one read, on SQLite and PostgreSQL. An invisible conversation (another agent's, another
tenant's) is simply absent."""

from __future__ import annotations

from anfu.store import Principal, Store, WorkflowStore


def test_batch_reads_follow_the_access_rules(store: Store) -> None:
    tenant = store.create_tenant("batch", "批量租户")
    other = store.create_tenant("batch-b", "另一租户")
    team = store.create_team(tenant.id, "一组")
    li = store.create_user(tenant.id, "batch-li", "x", "agent", team_id=team.id)
    zhao = store.create_user(tenant.id, "batch-zhao", "x", "agent", team_id=team.id)
    mine = store.create_conversation(tenant.id, team_id=team.id, agent_id=li.id)
    theirs = store.create_conversation(tenant.id, team_id=team.id, agent_id=zhao.id)
    foreign = store.create_conversation(other.id)
    for c in (mine, theirs, foreign):
        store.append_message(c.id, "customer", "停电了，什么时候来电？")
        store.append_message(c.id, "agent", "非常抱歉，抢修人员已经出发。")
        store.save_assessment(c.id, {"turns": [{"speaker": "customer", "emotion": "anxious", "intensity": 2}]})
    workflow = WorkflowStore(store.engine)
    for c in (mine, theirs):
        number = workflow.next_ticket_number(tenant.id, c.created_at)
        workflow.create_ticket(tenant.id, {"id": number, "status": "open", "stage": "接收反馈", "priority": "normal",
                                           "cause": "outage", "csat_score": 2}, conversation_id=c.id,
                               team_id=team.id, owner_id=c.agent_id)
    ids = [mine.id, theirs.id, foreign.id]
    agent = Principal.of_user(li)
    supervisor = Principal(tenant_id=tenant.id, role="supervisor", team_id=team.id, name="sup")
    messages = store.messages_of_conversations(agent, ids)
    assert list(messages) == [mine.id] and [m.seq for m in messages[mine.id]] == [1, 2]
    assert set(store.messages_of_conversations(supervisor, ids)) == {mine.id, theirs.id}
    assert set(store.assessments_of_conversations(agent, ids)) == {mine.id}
    assert set(store.assessments_of_conversations(supervisor, ids)) == {mine.id, theirs.id}
    assert {t.conversation_id for t in workflow.tickets_of_conversations(agent, ids)} == {mine.id}
    assert {t.conversation_id for t in workflow.tickets_of_conversations(supervisor, ids)} == {mine.id, theirs.id}
    assert store.messages_of_conversations(agent, []) == {} and workflow.tickets_of_conversations(agent, []) == []
