"""WorkflowStore: tickets, follow-ups and 四个不漏 ledger entries persisted with their access
rules (an agent sees own tickets, a supervisor the team's, nobody another tenant's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from anfu.errors import NotFoundError, StoreError
from anfu.store import Principal, Store, WorkflowStore, make_engine, upgrade
from anfu.workflow.followup import schedule_followup
from anfu.workflow.ledger import Departments, Ledger
from anfu.workflow.tickets import Ticket

AT = datetime(2025, 7, 8, 9, 30, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture()
def stores(tmp_path):
    engine = make_engine(url=f"sqlite:///{tmp_path / 'wf.db'}")
    upgrade(engine)
    store, workflow = Store(engine), WorkflowStore(engine)
    a = store.create_tenant("grid-a", "供电公司A")
    b = store.create_tenant("grid-b", "供电公司B")
    team = store.create_team(a.id, "95598一组")
    other_team = store.create_team(a.id, "95598二组")
    users = {name: store.create_user(tenant.id, name, "x", role, team_id=t.id if t else None)
             for name, tenant, role, t in (("li", a, "agent", team), ("zhao", a, "agent", team),
                                           ("wang", a, "supervisor", team), ("sun", a, "supervisor", other_team),
                                           ("admin_b", b, "admin", None))}
    yield store, workflow, a, team, users
    engine.dispose()


def _ticket(number: str) -> Ticket:
    ticket, _ = Ticket.create(number, customer_ref="户号3301", channel="call", cause="outage", at=AT, actor="li",
                              owner="li", summary="小区停电三天没人来修")
    return ticket


def test_ticket_round_trip_and_visibility(stores):
    store, workflow, tenant, team, users = stores
    number = workflow.next_ticket_number(tenant.id, AT)
    assert number == "TS-20250708-0001"
    record = workflow.create_ticket(tenant.id, _ticket(number).to_dict(), team_id=team.id, owner_id=users["li"].id)
    assert workflow.next_ticket_number(tenant.id, AT) == "TS-20250708-0002"
    assert Ticket.from_dict(workflow.get_ticket(record.id).data).summary == "小区停电三天没人来修"
    see = lambda who: Principal.of_user(users[who])  # noqa: E731
    assert workflow.get_ticket(record.id, visible_to=see("li")).number == number
    assert workflow.get_ticket(record.id, visible_to=see("wang")).number == number
    for who in ("zhao", "sun", "admin_b"):
        with pytest.raises(NotFoundError):
            workflow.get_ticket(record.id, visible_to=see(who))
        assert workflow.list_tickets(see(who)).total == 0
    assert workflow.list_tickets(see("wang")).total == 1


def test_duplicate_number_and_changed_number_are_refused(stores):
    store, workflow, tenant, team, users = stores
    data = _ticket("TS-20250708-0001").to_dict()
    record = workflow.create_ticket(tenant.id, data)
    with pytest.raises(StoreError):
        workflow.create_ticket(tenant.id, data)
    with pytest.raises(StoreError):
        workflow.save_ticket(record.id, {**data, "id": "TS-20250708-9999"})


def test_save_updates_columns_followup_and_ledger(stores):
    store, workflow, tenant, team, users = stores
    ticket = _ticket("TS-20250708-0001")
    record = workflow.create_ticket(tenant.id, ticket.to_dict(), team_id=team.id)
    for i, stage in enumerate(("确认问题", "提供方案", "执行方案")):
        ticket.advance_stage(stage, at=AT + timedelta(minutes=10 * (i + 1)), actor="li")
    ticket.resolve(at=AT + timedelta(hours=2), actor="li", note="已恢复供电")
    saved = workflow.save_ticket(record.id, ticket.to_dict())
    assert (saved.status, saved.stage) == ("resolved", "跟进回访")
    assert workflow.list_tickets(Principal.of_user(users["wang"]), status="resolved").total == 1
    follow, _ = schedule_followup(ticket)
    workflow.save_followup(record.id, follow.to_dict(), follow.due_at)
    assert workflow.get_followup(record.id).state == "scheduled"
    ledger = Ledger(Departments.load())
    workflow.save_ledger_entry(record.id, ledger.sync(ticket).to_dict())
    pairs = workflow.list_ledger(Principal.of_user(users["wang"]))
    assert len(pairs) == 1 and pairs[0][1].data["handled_at"] is not None
    assert workflow.list_ledger(Principal.of_user(users["admin_b"])) == []


def test_customer_deletion_removes_their_tickets_followups_and_ledger(stores):
    store, workflow, tenant, team, users = stores
    customer, _ = store.upsert_customer(tenant.id, phone="13812345678", display_name="陈先生")
    other, _ = store.upsert_customer(tenant.id, phone="13700001111")
    conv = store.create_conversation(tenant.id, customer_id=customer.id, team_id=team.id)
    other_conv = store.create_conversation(tenant.id, customer_id=other.id, team_id=team.id)
    ticket = _ticket("TS-20250708-0001")
    record = workflow.create_ticket(tenant.id, ticket.to_dict(), conversation_id=conv.id, team_id=team.id)
    kept = workflow.create_ticket(tenant.id, _ticket("TS-20250708-0002").to_dict(),
                                  conversation_id=other_conv.id, team_id=team.id)
    for i, stage in enumerate(("确认问题", "提供方案", "执行方案")):
        ticket.advance_stage(stage, at=AT + timedelta(minutes=10 * (i + 1)), actor="li")
    ticket.resolve(at=AT + timedelta(hours=2), actor="li", note="已为陈先生恢复供电")
    follow, _ = schedule_followup(ticket)
    workflow.save_followup(record.id, follow.to_dict(), follow.due_at)
    workflow.save_ledger_entry(record.id, Ledger(Departments.load()).sync(ticket).to_dict())
    admin = Principal(tenant_id=tenant.id, role="admin", user_id=1)
    report = store.delete_customer_data(customer.id, by=admin)
    assert report.tickets == 1 and report.conversations == 1
    with pytest.raises(NotFoundError):
        workflow.get_ticket(record.id)
    assert workflow.get_followup(record.id) is None and workflow.get_ledger_entry(record.id) is None
    assert workflow.get_ticket(kept.id).number == "TS-20250708-0002"
