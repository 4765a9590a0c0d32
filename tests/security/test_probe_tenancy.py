"""Probe: who may reach which rows — across tenants, teams, agents and the read-only auditor
(issue 12: survey link, ticket numbers, customers named by ref/phone, auditor writes,
client_msg_id reuse, cross-team assignment)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anfu.store import Principal, WorkflowStore

STAGES = (("respond", {}), ("advance", {"to": "确认问题"}), ("advance", {"to": "提供方案"}),
          ("advance", {"to": "执行方案"}), ("resolve", {"note": "已处理"}))


def _message(world: Any, who: str, text: str, **body: Any) -> Any:
    return world.client(who).post("/api/v1/messages", json={"text": text, **body})


def _ticket(world: Any, agent: str, supervisor: str, text: str) -> tuple[int, str]:
    """A conversation of `agent` escalated to a ticket by `supervisor`; (ticket id, number)."""
    reply = _message(world, agent, text)
    assert reply.status_code == 201, reply.text
    cid = reply.json()["conversation"]["id"]
    panel = world.client(supervisor).post(f"/console/{cid}/escalate")
    assert panel.status_code == 200, panel.text[:300]
    number = re.search(r'id="ticket-link">(TS-\d{8}-\d{4})<', panel.text).group(1)
    principal = Principal.of_user(world.users[supervisor])
    record = WorkflowStore(world.store.engine).list_tickets(principal, conversation_id=cid).items[0]
    assert record.number == number
    return record.id, number


def _resolve(world: Any, supervisor: str, ticket_id: int) -> str:
    """Work the ticket to resolved; the survey path the ticket page offers."""
    client = world.client(supervisor)
    for action, data in STAGES:
        done = client.post(f"/tickets/{ticket_id}/{action}", data=data, headers={"HX-Request": "true"})
        assert done.status_code == 200 and 'id="ticket-error"' not in done.text, (action, done.text[:300])
    page = client.get(f"/tickets/{ticket_id}").text
    return re.search(r'id="survey-url" readonly value="([^"]+)"', page).group(1).split("testserver", 1)[1]


def test_survey_link_answers_only_its_own_tenants_ticket(make_world: Any) -> None:
    world = make_world()
    a_id, a_number = _ticket(world, "agent_a1", "sup_a1", "停电两天了还没人来修，我要投诉！")
    b_id, b_number = _ticket(world, "agent_b1", "sup_b1", "宽带断了一整天，我要投诉到工信部！")
    assert a_number == b_number  # numbers are unique per tenant only
    _resolve(world, "sup_a1", a_id)
    b_path = _resolve(world, "sup_b1", b_id)
    answer = world.client().post(b_path, data={"score": "1", "comment": "B租户客户的评价"})
    assert answer.status_code == 200 and "班长会尽快与您联系" in answer.text
    workflow = WorkflowStore(world.store.engine)
    b_ticket = workflow.get_ticket(b_id)
    a_ticket = workflow.get_ticket(a_id)
    assert b_ticket.data["csat_score"] == 1 and "B租户客户的评价" in str(b_ticket.data)
    assert a_ticket.data["csat_score"] is None and a_ticket.status == "resolved"  # not reopened
    assert "B租户客户的评价" not in str(a_ticket.data)
    # a link signed with the right key that names only a ticket number (how links were made
    # before) reaches no ticket at all
    from anfu.workflow.csat import SurveyLinks

    token = SurveyLinks(world.settings.secret_key.get_secret_value()).token(a_number)
    page = world.client().get(f"/survey/{token}")
    assert page.status_code == 404 and 'name="score"' not in page.text


def test_ticket_numbers_never_repeat_after_a_customer_is_deleted(make_world: Any) -> None:
    world = make_world()
    first_id, first = _ticket(world, "agent_a1", "sup_a1", "停电了，快来修，不然我投诉！")
    reply = _message(world, "agent_a1", "电费多扣了两百块，我要投诉到12345！", customer={"phone": "13911112222"})
    cid = reply.json()["conversation"]["id"]
    second = re.search(r'id="ticket-link">(TS-\d{8}-\d{4})<',
                       world.client("sup_a1").post(f"/console/{cid}/escalate").text).group(1)
    assert second != first
    customer_id = reply.json()["conversation"]["customer_id"]
    assert world.client("admin_a").delete(f"/api/v1/customers/{customer_id}").status_code == 200
    # count + 1 would hand out `second` again (one ticket left): the sequence does not
    _, third = _ticket(world, "agent_a1", "sup_a1", "还是没人来修，我要找你们领导！")
    assert third not in (first, second)
    assert int(third[-4:]) == int(second[-4:]) + 1


def test_agent_cannot_read_or_change_another_agents_customer(make_world: Any) -> None:
    world = make_world()
    theirs = _message(world, "agent_a2", "我的退款什么时候到账？", conversation_ref="probe-theirs",
                      customer={"external_ref": "CRM-778", "phone": "13822223333", "name": "王大明"})
    assert theirs.status_code == 201, theirs.text
    their_customer = theirs.json()["conversation"]["customer_id"]
    probe = _message(world, "agent_a1", "你好", conversation_ref="probe-mine",
                     customer={"external_ref": "CRM-778", "email": "attacker@example.com"})
    assert probe.status_code == 201, probe.text
    mine = probe.json()["conversation"]["customer_id"]
    assert mine != their_customer
    # nothing of theirs is readable through the agent's own customer
    timeline = world.client("agent_a1").get(f"/api/v1/customers/{mine}/timeline").json()
    assert "王大明" not in str(timeline) and "13822223333" not in str(timeline)
    assert world.client("agent_a1").get(f"/api/v1/customers/{their_customer}/timeline").status_code == 404
    # and nothing of theirs changed
    stored = world.store.get_customer(their_customer)
    assert stored.email is None and stored.display_name == "王大明"
    by_phone = _message(world, "agent_a1", "你好", conversation_ref="probe-phone", customer={"phone": "138 2222 3333"})
    assert by_phone.json()["conversation"]["customer_id"] != their_customer
    # their ref together with a phone of the agent's own customer: the agent's customer, left
    # without the other one's ref (no 409, no change to theirs)
    own = _message(world, "agent_a1", "还是我", conversation_ref="probe-own",
                   customer={"external_ref": "CRM-778", "phone": "13822223333"})
    assert own.status_code == 201, own.text
    assert own.json()["conversation"]["customer_id"] == by_phone.json()["conversation"]["customer_id"]
    assert world.store.get_customer(own.json()["conversation"]["customer_id"]).external_ref is None


def test_auditor_writes_nothing_on_the_way_to_403(make_world: Any) -> None:
    world = make_world()
    tenant = world.tenants["a"].id
    admin = Principal.of_user(world.users["admin_a"])
    before_customers = world.store.list_customers(admin).total
    before_conversations = world.store.list_conversations(admin).total
    auditor = world.client("auditor_a")
    posted = auditor.post("/api/v1/messages", json={"text": "审计员试图写入", "conversation_ref": "audit-probe",
                                                     "customer": {"phone": "13633334444"}})
    assert posted.status_code == 403 and posted.json()["error"]["code"] == "AF417"
    csv = "conversation_id,speaker,text,customer\nx1,customer,电费太高了,13644445555\n".encode()
    uploaded = auditor.post("/api/v1/intake/table", files={"file": ("t.csv", csv, "text/csv")})
    assert uploaded.status_code == 403 and uploaded.json()["error"]["code"] == "AF417"
    assert world.store.list_customers(admin).total == before_customers
    assert world.store.list_conversations(admin).total == before_conversations
    assert tenant  # the rows would have been in this tenant


def test_reused_client_msg_id_does_not_reveal_another_conversation(world: Any) -> None:
    theirs = _message(world, "agent_a2", "我的快递丢了", client_msg_id="probe-cmid-1")
    their_id = theirs.json()["conversation"]["id"]
    mine = _message(world, "agent_a1", "你好", conversation_ref="probe-cmid")
    reused = _message(world, "agent_a1", "再发一次", conversation_id=mine.json()["conversation"]["id"],
                      client_msg_id="probe-cmid-1")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "AF505"
    message = reused.json()["error"]["message"].replace("probe-cmid-1", "")
    assert str(their_id) not in message and "probe-cmid-1" in reused.json()["error"]["message"]


def test_supervisor_cannot_assign_to_another_teams_agent(world: Any) -> None:
    sup2 = world.client("sup_a2")
    other_team_agent = world.users["agent_a1"].id
    refused = sup2.post("/api/v1/messages", json={"text": "转给一组的坐席", "conversation_ref": "probe-assign",
                                                   "agent_id": other_team_agent})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AF417"
    own = sup2.post("/api/v1/messages", json={"text": "转给本组坐席", "conversation_ref": "probe-assign-own",
                                               "agent_id": world.users["agent_a2"].id})
    assert own.status_code == 201 and own.json()["conversation"]["agent_id"] == world.users["agent_a2"].id
    # the store refuses it too, whatever the route
    conversation = own.json()["conversation"]["id"]
    with pytest.raises(Exception) as err:
        world.store.update_conversation(conversation, by=Principal.of_user(world.users["sup_a2"]),
                                        agent_id=other_team_agent)
    assert getattr(err.value, "code", None) == "AF417"
