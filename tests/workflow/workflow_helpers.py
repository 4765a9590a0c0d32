"""Ticket factories shared by the workflow and analytics tests (times in China Standard Time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from anfu.workflow.tickets import Ticket

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2025-07-01 16:00' in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def outage_ticket(created: str = "2025-07-01 16:00", **kwargs) -> Ticket:
    """A 95598 complaint: a housing estate without power for three days."""
    fields = dict(customer_ref="户号 3101234567", channel="webchat", cause="outage", priority="normal",
                  owner="王丽(1023)", team="95598一组", industry="power", conversation_ref="demo-power-outage",
                  summary="小区停电三天，两次报修无人到场")
    fields.update(kwargs)
    ticket_id = fields.pop("id", "TS-20250701-0001")
    ticket, _ = Ticket.create(ticket_id, at=at(created), actor="王丽(1023)", **fields)
    return ticket


def walk_to_execution(ticket: Ticket, start: str) -> None:
    """Answer and move the ticket to 执行方案, one minute per step from `start`."""
    base = at(start)
    ticket.respond(at=base, actor="王丽(1023)")
    for i, stage in enumerate(("确认问题", "提供方案", "执行方案"), start=1):
        ticket.advance_stage(stage, at=base + timedelta(minutes=i), actor="王丽(1023)")
