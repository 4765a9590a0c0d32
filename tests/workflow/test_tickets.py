from __future__ import annotations

import json
from datetime import datetime

import pytest
from workflow_helpers import at, outage_ticket, walk_to_execution

from anfu.errors import WorkflowError
from anfu.events import from_dict
from anfu.events import TicketCreated, TicketReopened
from anfu.workflow.tickets import Ticket

AGENT = "王丽(1023)"


def test_power_outage_complaint_follows_the_sop_end_to_end() -> None:
    ticket, events = Ticket.create(
        "TS-20250701-0001", customer_ref="户号 3101234567", channel="call", cause="outage",
        at=at("2025-07-01 16:00"), actor=AGENT, priority="urgent", owner=AGENT, team="95598一组",
        industry="power", summary="小区停电三天，两次报修无人到场，老人小孩热得受不了",
    )
    assert [e.name for e in events] == ["ticket.created"]
    assert ticket.status == "open" and ticket.stage == "接收反馈"

    names: list[str] = []
    names += [e.name for e in ticket.respond(at=at("2025-07-01 16:05"), actor=AGENT)]
    names += [e.name for e in ticket.advance_stage("确认问题", at=at("2025-07-01 16:06"), actor=AGENT,
                                                   note="核实：3号楼专变故障")]
    names += [e.name for e in ticket.advance_stage("提供方案", at=at("2025-07-01 16:10"), actor=AGENT,
                                                   note="升级紧急抢修，18点前恢复供电")]
    names += [e.name for e in ticket.advance_stage("执行方案", at=at("2025-07-01 16:12"), actor=AGENT)]
    names += [e.name for e in ticket.resolve(at=at("2025-07-01 17:40"), actor="抢修班组张工",
                                             note="17:35 恢复供电")]
    assert ticket.status == "resolved" and ticket.stage == "跟进回访"
    names += [e.name for e in ticket.close(at=at("2025-07-02 10:00"), actor=AGENT, note="回访客户满意")]
    assert names == ["ticket.responded", "ticket.stage_changed", "ticket.stage_changed", "ticket.stage_changed",
                     "ticket.stage_changed", "ticket.resolved", "ticket.closed"]
    assert ticket.status == "closed" and ticket.closed_at == at("2025-07-02 10:00")

    stages = [(t.from_value, t.to_value) for t in ticket.transitions("stage")]
    assert stages == [("接收反馈", "确认问题"), ("确认问题", "提供方案"), ("提供方案", "执行方案"),
                      ("执行方案", "跟进回访")]
    assert ticket.history[0].kind == "created" and ticket.history[0].actor == AGENT
    assert ticket.transitions("status")[-1].note == "回访客户满意"
    # history is an append-only tuple of frozen records
    with pytest.raises(AttributeError):
        ticket.history[0].note = "改写"  # type: ignore[misc]


def test_stage_cannot_be_skipped_and_going_back_needs_a_reason() -> None:
    ticket = outage_ticket()
    with pytest.raises(WorkflowError) as err:
        ticket.advance_stage("提供方案", at=at("2025-07-01 16:10"), actor=AGENT)
    assert err.value.code == "AF603" and "接收反馈" in err.value.message
    walk_to_execution(ticket, "2025-07-01 16:10")
    with pytest.raises(WorkflowError):
        ticket.advance_stage("提供方案", at=at("2025-07-01 16:20"), actor=AGENT)
    events = ticket.advance_stage("提供方案", at=at("2025-07-01 16:20"), actor=AGENT,
                                  note="客户不接受临时发电车方案，要求重新协商")
    assert events[0].from_stage == "执行方案" and events[0].to_stage == "提供方案"
    # 跟进回访 is reached by resolving, never by hand
    ticket.advance_stage("执行方案", at=at("2025-07-01 16:25"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        ticket.advance_stage("跟进回访", at=at("2025-07-01 16:30"), actor=AGENT)
    assert err.value.code == "AF603"


def test_resolving_before_the_plan_is_carried_out_is_refused() -> None:
    ticket = outage_ticket()
    ticket.advance_stage("确认问题", at=at("2025-07-01 16:05"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        ticket.resolve(at=at("2025-07-01 16:06"), actor=AGENT)
    assert err.value.code == "AF603"
    assert ticket.status == "open" and ticket.resolved_at is None


def test_status_moves_are_enforced_with_the_allowed_ones_named() -> None:
    ticket = outage_ticket(cause="billing", industry="telecom", summary="话费多扣58元视频会员费")
    with pytest.raises(WorkflowError) as err:
        ticket.close(at=at("2025-07-01 16:30"), actor=AGENT)
    assert err.value.code == "AF602"
    assert "waiting_customer" in err.value.message and "resolved" in err.value.message
    with pytest.raises(WorkflowError):
        ticket.reopen(at=at("2025-07-01 16:30"), actor=AGENT, reason="客户再次来电")
    with pytest.raises(WorkflowError) as err:
        ticket.customer_replied(at=at("2025-07-01 16:30"), actor=AGENT)
    assert err.value.code == "AF602"


def test_waiting_on_the_customer_and_closing_without_reply_needs_a_note() -> None:
    ticket = outage_ticket(cause="refund", industry="ecommerce", channel="app",
                           summary="退货已签收七天仍未退款")
    ticket.wait_on_customer(at=at("2025-07-01 16:10"), actor=AGENT, note="请客户上传退货物流单号截图")
    assert ticket.status == "waiting_customer" and not ticket.is_active
    events = ticket.customer_replied(at=at("2025-07-02 09:00"), actor="customer", note="已上传截图")
    assert events[0].to_status == "open"
    ticket.wait_on_customer(at=at("2025-07-02 09:30"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        ticket.close(at=at("2025-07-09 09:30"), actor=AGENT)
    assert err.value.code == "AF607" and "三次回访未接通" in err.value.message
    ticket.close(at=at("2025-07-09 09:30"), actor=AGENT, note="三次联系客户未回复，按规定结单")
    assert ticket.status == "closed"


def test_reopen_restarts_at_confirming_the_problem() -> None:
    ticket = outage_ticket()
    walk_to_execution(ticket, "2025-07-01 16:10")
    ticket.resolve(at=at("2025-07-01 18:00"), actor=AGENT)
    ticket.close(at=at("2025-07-02 10:00"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        ticket.reopen(at=at("2025-07-03 09:00"), actor=AGENT, reason="  ")
    assert err.value.code == "AF606"
    events = ticket.reopen(at=at("2025-07-03 09:00"), actor=AGENT, reason="客户来电：当晚又停电了")
    assert isinstance(events[0], TicketReopened) and events[0].from_status == "closed"
    assert [e.name for e in events] == ["ticket.reopened", "ticket.stage_changed"]
    assert ticket.status == "reopened" and ticket.stage == "确认问题" and ticket.reopen_count == 1
    assert ticket.resolved_at is None and ticket.closed_at is None
    # waiting on the customer after a reopen comes back as reopened, not open
    ticket.wait_on_customer(at=at("2025-07-03 09:10"), actor=AGENT)
    assert ticket.customer_replied(at=at("2025-07-03 10:00"), actor="customer")[0].to_status == "reopened"


def test_closed_ticket_refuses_changes_until_reopened() -> None:
    ticket = outage_ticket()
    walk_to_execution(ticket, "2025-07-01 16:10")
    ticket.resolve(at=at("2025-07-01 18:00"), actor=AGENT)
    ticket.close(at=at("2025-07-02 10:00"), actor=AGENT)
    with pytest.raises(WorkflowError) as err:
        ticket.assign("李强(1088)", at=at("2025-07-02 11:00"), actor="班长")
    assert err.value.code == "AF607"
    with pytest.raises(WorkflowError):
        ticket.advance_stage("确认问题", at=at("2025-07-02 11:00"), actor=AGENT, note="复核")


def test_bad_values_and_times_give_coded_errors() -> None:
    with pytest.raises(WorkflowError) as err:
        outage_ticket(cause="停电")
    assert err.value.code == "AF601" and "outage" in err.value.message
    with pytest.raises(WorkflowError) as err:
        outage_ticket(priority="特急")
    assert err.value.code == "AF601"
    with pytest.raises(WorkflowError) as err:
        outage_ticket(customer_ref=" ")
    assert err.value.code == "AF606"
    with pytest.raises(WorkflowError) as err:
        Ticket.create("T1", customer_ref="13800000000", channel="call", cause="billing",
                      at=datetime(2025, 7, 1, 9, 0), actor=AGENT)
    assert err.value.code == "AF604" and "tzinfo" in err.value.message
    ticket = outage_ticket()
    with pytest.raises(WorkflowError) as err:
        ticket.respond(at=at("2025-07-01 15:00"), actor=AGENT)
    assert err.value.code == "AF605"
    assert ticket.first_response_at is None and len(ticket.history) == 1


def test_first_response_counts_once_and_assignment_is_recorded() -> None:
    ticket = outage_ticket()
    assert len(ticket.respond(at=at("2025-07-01 16:05"), actor=AGENT)) == 1
    assert ticket.respond(at=at("2025-07-01 16:30"), actor=AGENT) == []
    assert ticket.first_response_at == at("2025-07-01 16:05")
    events = ticket.assign("李强(1088)", at=at("2025-07-01 16:40"), actor="班长赵敏", note="转抢修专席")
    assert events[0].previous_owner == AGENT and ticket.owner == "李强(1088)"
    ticket.set_priority("high", at=at("2025-07-01 16:41"), actor="班长赵敏")
    assert [t.kind for t in ticket.history] == ["created", "responded", "owner", "priority"]


def test_events_and_tickets_survive_json() -> None:
    ticket, events = Ticket.create(
        "TS-20250701-0002", customer_ref="订单 20250628153322", channel="app", cause="refund",
        at=at("2025-07-01 09:00"), actor="客服小美", industry="ecommerce", summary="退货退款七天未到账")
    payload = json.loads(json.dumps(events[0].to_dict(), ensure_ascii=False))
    rebuilt = from_dict(payload)
    assert isinstance(rebuilt, TicketCreated) and rebuilt == events[0]
    walk_to_execution(ticket, "2025-07-01 09:05")
    ticket.resolve(at=at("2025-07-01 11:00"), actor="客服小美", note="已原路退款 299 元")
    copy = Ticket.from_dict(json.loads(json.dumps(ticket.to_dict(), ensure_ascii=False)))
    assert copy == ticket
    assert copy.history[-1].note == "已原路退款 299 元"
