"""The complaint tickets of the demo fortnight: each escalated contact's ticket worked through
the real workflow (anfu.workflow) up to `now` — answered, moved along the SOP, sometimes
waiting on the customer, resolved, followed up (回访), surveyed (满意度), closed or reopened,
and fed back to its department (四个不漏) — with realistic delays, a few of them late, so
the SLA figures show both met and breached targets and recent tickets are still open.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..workflow.csat import SurveyLinks, submit_survey
from ..workflow.followup import FollowUp, complete_followup, schedule_followup
from ..workflow.ledger import Ledger, LedgerEntry
from ..workflow.sla import SlaPolicies
from ..workflow.tickets import Ticket
from .fortnight import DemoContact

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# (usual first-answer delay range in minutes, usual resolution delay range in hours) by priority
PACE = {"urgent": ((5, 45), (1, 10)), "high": ((15, 240), (3, 30)), "normal": ((20, 600), (6, 48)),
        "low": ((60, 900), (12, 80))}
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (46, 28, 12, 8, 6)
CUSTOMER_REFS = {"power": "户号", "telecom": "手机尾号", "ecommerce": "订单", "after_sales": "工单"}


@dataclass
class Casework:
    ticket: Ticket
    followup: FollowUp | None = None
    ledger: LedgerEntry | None = None
    feedback: list[str] = field(default_factory=list)  # department feedback states, in order


class _Clock:
    """Moves forward in steps; a step that would pass `now` does not happen."""

    def __init__(self, start: datetime, now: datetime) -> None:
        self.at, self.now = start, now

    def step(self, delta: timedelta) -> bool:
        if self.at + delta > self.now:
            return False
        self.at += delta
        return True


def work_ticket(contact: DemoContact, number: str, now: datetime, rng: random.Random,
                policies: SlaPolicies, ledger: Ledger, comments: dict[int, list[str]],
                links: SurveyLinks | None = None) -> Casework:
    """The ticket of one escalated contact as it stands at `now`."""
    links = links or SurveyLinks(secrets.token_urlsafe(32))
    agent = contact.agent
    created = contact.ended + rng.randint(2, 12) * MINUTE
    summary = next(t.text for t in contact.turns if t.speaker == "customer")
    ref = f"{CUSTOMER_REFS.get(contact.industry, '客户')}{rng.randint(1000, 9999)}"
    ticket, _ = Ticket.create(number, customer_ref=ref, channel=contact.channel, cause=contact.cause,
                              priority=contact.priority, at=created, actor=agent, owner=agent, team=contact.team,
                              industry=contact.industry, conversation_ref=contact.ref, summary=summary[:200])
    work = Casework(ticket, ledger=ledger.record(ticket))
    clock = _Clock(created, now)
    policy = policies.policy_for(ticket.priority, ticket.channel)
    answer, resolve = PACE[ticket.priority]
    late = rng.random() < 0.1
    first = (policy.response * rng.uniform(1.05, 1.4)) if late else rng.randint(*answer) * MINUTE
    if not clock.step(first):
        return work
    ticket.respond(at=clock.at, actor=agent, note="已联系客户，说明处理安排")
    for stage in ("确认问题", "提供方案", "执行方案"):
        if not clock.step(rng.randint(10, 150) * MINUTE):
            return work
        ticket.advance_stage(stage, at=clock.at, actor=agent)
    if rng.random() < 0.18:
        ticket.wait_on_customer(at=clock.at, actor=agent, note="请客户补充材料（照片、单据）")
        if not clock.step(rng.randint(4, 40) * HOUR):
            return work
        ticket.customer_replied(at=clock.at, actor="customer", note="客户已补充材料")
    late = rng.random() < 0.12
    span = policy.resolution * rng.uniform(1.1, 1.5) if late else rng.uniform(*resolve) * HOUR
    if not clock.step(span):
        return work
    ticket.resolve(at=clock.at, actor=agent, note="处理完毕，已告知客户结果")
    follow, _ = schedule_followup(ticket, policies=policies)
    work.followup = follow
    ledger.sync(ticket)
    surveyed = rng.random() < 0.8
    survey_at = clock.at + rng.randint(1, 20) * HOUR
    if surveyed and survey_at <= now:
        score = rng.choices(SCORES, weights=SCORE_WEIGHTS)[0]
        submit_survey(ticket, links.token(ticket.id), score=score, comment=rng.choice(comments[score]),
                      at=survey_at, links=links)
        clock.at = survey_at
        if ticket.status == "reopened":
            work.followup = None  # the 回访 call is moot: the ticket is back at 确认问题
            ledger.sync(ticket)
            return work
    call_at = max(follow.due_at, clock.at) + rng.randint(0, 90) * MINUTE
    if call_at > now:
        return work
    reached = rng.random() < 0.9
    solved = rng.random() < 0.93
    work.followup, _ = complete_followup(follow, ticket, at=call_at, actor=agent, reached=reached,
                                         problem_solved=solved if reached else None,
                                         note="客户确认问题已解决" if reached and solved else
                                         ("客户反映问题仍未解决" if reached else "电话未接通"))
    ledger.sync(ticket)
    if not (reached and solved):
        return work
    ledger.recheck(ticket.id, at=call_at, actor=agent, ok=True, note="回访确认问题已解决")
    clock.at = call_at
    if clock.step(rng.randint(1, 4) * HOUR):
        ticket.close(at=clock.at, actor=agent, note="回访完成，工单关闭")
        ledger.sync(ticket)
    if rng.random() < 0.75 and clock.step(rng.randint(2, 30) * HOUR):
        ledger.feed_back(ticket.id, at=clock.at, actor=agent, note=f"{summary[:30]}……请核查源头原因")
        work.feedback.append("sent")
        reply = rng.choices(("acknowledged", "actioned", "rejected"), weights=(5, 4, 1))[0]
        if clock.step(rng.randint(6, 72) * HOUR):
            ledger.update_feedback(ticket.id, reply, at=clock.at, actor="部门联络人",
                                   note={"acknowledged": "已收到，正在排查", "actioned": "已整改并加强巡检",
                                         "rejected": "经核实非本部门原因"}[reply])
            work.feedback.append(reply)
    work.ledger = ledger.entry(ticket.id)
    return work
