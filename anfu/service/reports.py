"""The analytics report (数据分析) for one principal, with the boards' filters: what the
analytics pages show, what `GET /api/v1/analytics` returns and what the Excel/PDF exports
write. Only what the principal may see goes in."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from zoneinfo import ZoneInfo

from ..analytics import Bucket, Filters, Report, report_from_buckets
from ..analytics.records import DEFAULT_TIMEZONE
from ..store import Store
from ..store.facts_repo import FactsStore
from ..pii import mask_data
from ..store.access import Principal, sees_identity
from .desk import TicketDesk

FILTER_KEYS = ("date_from", "date_to", "channel", "team", "agent")


def agent_labels(accounts: list[Any]) -> dict[str, str]:
    """Username -> the name dashboards show: the display name (李强), with the username
    added where two accounts share it."""
    names = [a.display_name or a.username for a in accounts]
    return {a.username: (name if names.count(name) == 1 else f"{name}（{a.username}）")
            for a, name in zip(accounts, names)}


def report_inputs(store: Store, desk: TicketDesk, principal: Principal, *, now: datetime | None = None,
                  timezone_name: str = DEFAULT_TIMEZONE) -> tuple[list[Bucket], list[Any], dict[str, list[str]]]:
    """The sums of the conversations `principal` may see per local day, channel, team and agent
    (grouped and summed in SQL: `FactsStore.sums`), the tickets they may see, and the values
    the filter menus offer."""
    teams = {t.id: t.name for t in store.list_teams(principal.tenant_id)}
    accounts = store.list_users(principal.tenant_id)
    labels = agent_labels(accounts)
    users = {u.id: labels[u.username] for u in accounts}
    moment = now or datetime.now(timezone.utc)
    offset = ZoneInfo(timezone_name).utcoffset(moment.replace(tzinfo=None))
    sums = FactsStore(store.engine).sums(principal, utc_offset_minutes=int(offset.total_seconds() // 60))
    buckets = [Bucket(day=r.day, channel=r.channel, team=teams.get(r.team_id) if r.team_id else None,
                      agent=users.get(r.agent_id) if r.agent_id else None, conversations=r.conversations,
                      peak_sum=r.peak_sum, peak_n=r.peak_n, strong=r.strong, end_sum=r.end_sum, end_n=r.end_n,
                      valence_sum=r.valence_sum, valence_n=r.valence_n, level_n=r.level_n, escalated=r.escalated,
                      calm_eligible=r.calm_eligible, calmed=r.calmed, quality_sum=r.quality_sum,
                      quality_n=r.quality_n, emotions=r.emotions, causes=r.causes) for r in sums]
    tickets = [desk.ticket(r) for r in desk.workflow.all_tickets(principal)]
    for ticket in tickets:  # owners are usernames: show them as the agents are shown
        ticket.owner = labels.get(ticket.owner, ticket.owner) if ticket.owner else ticket.owner
    options = {"channels": sorted({b.channel for b in buckets if b.channel} | {t.channel for t in tickets}),
               "teams": sorted({b.team for b in buckets if b.team} | {t.team for t in tickets if t.team}),
               "agents": sorted({b.agent for b in buckets if b.agent} | {t.owner for t in tickets if t.owner})}
    return buckets, tickets, options


def make_report(store: Store, desk: TicketDesk, principal: Principal, query: dict[str, str],
                now: datetime | None = None) -> tuple[Report, dict[str, list[str]]]:
    """The report over what `principal` sees, filtered by `query` (FILTER_KEYS; dates as
    YYYY-MM-DD, one channel, team and agent each); AF65x for a bad filter."""
    filters = Filters.make(query.get("date_from") or None, query.get("date_to") or None,
                           channels=[query["channel"]] if query.get("channel") else [],
                           teams=[query["team"]] if query.get("team") else [],
                           agents=[query["agent"]] if query.get("agent") else [])
    buckets, tickets, options = report_inputs(store, desk, principal, now=now, timezone_name=filters.timezone)
    report = report_from_buckets(buckets, tickets, filters=filters, now=now or datetime.now(timezone.utc),
                                 policies=desk.policies)
    if not sees_identity(principal):  # admins and auditors: the customers' words masked, as everywhere
        report = replace(report, low_csat=mask_data(report.low_csat))
    return report, options
