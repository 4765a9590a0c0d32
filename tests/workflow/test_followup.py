from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_helpers import at, outage_ticket, walk_to_execution

from anfu.errors import WorkflowError
from anfu.workflow.followup import cancel_followup, complete_followup, schedule_followup
from anfu.workflow.sla import SlaPolicies

AGENT = "王丽(1023)"


@pytest.fixture(scope="module")
def policies() -> SlaPolicies:
    return SlaPolicies.load()


def resolved_ticket(resolved_at: str = "2025-07-04 16:00", **kwargs):
    ticket = outage_ticket("2025-07-04 09:00", **kwargs)
    walk_to_execution(ticket, "2025-07-04 09:10")
    ticket.resolve(at=at(resolved_at), actor="抢修班组张工", note="更换熔断器，恢复供电")
    return ticket


def test_followup_is_scheduled_one_business_day_after_resolution(policies) -> None:
    ticket = resolved_ticket("2025-07-04 16:00")  # Friday afternoon
    follow, events = schedule_followup(ticket, policies=policies)
    # 1.5 h left on Friday, the weekend is closed, 22.5 h more from Monday: Wednesday 17:30
    assert follow.due_at == at("2025-07-09 17:30")
    assert follow.owner == AGENT and follow.state == "scheduled"
    assert [e.name for e in events] == ["followup.scheduled"]
    assert events[0].due_at == "2025-07-09T17:30:00+08:00"
    assert not follow.is_overdue(at("2025-07-09 17:00")) and follow.is_overdue(at("2025-07-09 18:00"))


def test_delay_and_calendar_are_configurable(policies) -> None:
    ticket = resolved_ticket("2025-07-04 16:00")
    follow, _ = schedule_followup(ticket, delay=timedelta(hours=2), calendar=policies.calendars["always"])
    assert follow.due_at == at("2025-07-04 18:00")
    follow, _ = schedule_followup(ticket, policies=policies, delay=timedelta(hours=2))
    assert follow.due_at == at("2025-07-07 09:00")  # business calendar: 1.5 h Friday + 0.5 h Monday


def test_followup_needs_a_resolved_ticket(policies) -> None:
    ticket = outage_ticket()
    with pytest.raises(WorkflowError) as err:
        schedule_followup(ticket, policies=policies)
    assert err.value.code == "AF621" and "open" in err.value.message


def test_customer_says_the_power_is_off_again_and_the_ticket_reopens(policies) -> None:
    ticket = resolved_ticket()
    follow, _ = schedule_followup(ticket, policies=policies)
    done, events = complete_followup(follow, ticket, at=at("2025-07-07 10:00"), actor=AGENT, reached=True,
                                     problem_solved=False, note="客户反映周末晚上又停电两次")
    assert done.state == "done" and done.problem_solved is False
    assert [e.name for e in events] == ["followup.completed", "ticket.reopened", "ticket.stage_changed"]
    assert ticket.status == "reopened" and ticket.stage == "确认问题"
    assert ticket.transitions("status")[-1].note == "客户反映周末晚上又停电两次"
    with pytest.raises(WorkflowError) as err:
        complete_followup(done, ticket, at=at("2025-07-07 11:00"), actor=AGENT, reached=True)
    assert err.value.code == "AF620"


def test_satisfied_or_unreached_customer_leaves_the_ticket_alone(policies) -> None:
    ticket = resolved_ticket()
    follow, _ = schedule_followup(ticket, policies=policies)
    done, events = complete_followup(follow, ticket, at=at("2025-07-07 10:00"), actor=AGENT, reached=True,
                                     problem_solved=True, note="客户表示已正常供电，感谢及时抢修")
    assert [e.name for e in events] == ["followup.completed"] and ticket.status == "resolved"
    other = resolved_ticket(id="TS-20250704-0002")
    follow2, _ = schedule_followup(other, policies=policies)
    missed, events = complete_followup(follow2, other, at=at("2025-07-07 10:00"), actor=AGENT, reached=False,
                                       problem_solved=False, note="电话无人接听")
    assert missed.reached is False and missed.problem_solved is None and other.status == "resolved"
    cancelled = cancel_followup(schedule_followup(other, policies=policies)[0], at=at("2025-07-07 10:05"),
                                note="客户已来电确认")
    assert cancelled.state == "cancelled" and cancelled.to_dict()["done_at"].startswith("2025-07-07T10:05")
