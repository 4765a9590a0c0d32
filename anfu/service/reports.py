"""The analytics report (数据分析) for one principal, with the boards' filters: what the
analytics pages show, what `GET /api/v1/analytics` returns and what the Excel/PDF exports
write. Only what the principal may see goes in."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..analytics import Filters, Report, build_report
from ..store import ConversationFilter, Store
from ..store.access import Principal
from .desk import TicketDesk

MAX_CONVERSATIONS = 5000
FILTER_KEYS = ("date_from", "date_to", "channel", "team", "agent")


def agent_labels(accounts: list[Any]) -> dict[str, str]:
    """Username -> the name dashboards show: the display name (李强), with the username
    added where two accounts share it."""
    names = [a.display_name or a.username for a in accounts]
    return {a.username: (name if names.count(name) == 1 else f"{name}（{a.username}）")
            for a, name in zip(accounts, names)}


def report_inputs(store: Store, desk: TicketDesk, principal: Principal
                  ) -> tuple[list[dict[str, Any]], list[Any], dict[str, list[str]]]:
    """Assessments with their metadata (day, channel, team, agent) and tickets `principal` may
    see, plus the values the filter menus offer."""
    teams = {t.id: t.name for t in store.list_teams(principal.tenant_id)}
    accounts = store.list_users(principal.tenant_id)
    labels = agent_labels(accounts)
    users = {u.id: labels[u.username] for u in accounts}
    items: list[dict[str, Any]] = []
    page, fetched = 1, 0
    while fetched < MAX_CONVERSATIONS:
        batch = store.list_conversations(principal, ConversationFilter(), page=page, page_size=200)
        for conversation in batch.items:
            latest = store.latest_assessment(conversation.id)
            if latest is None or "turns" not in latest.data:
                continue
            data = dict(latest.data)
            data.update(id=str(conversation.id), date=conversation.created_at.isoformat(),
                        channel=conversation.channel, team=teams.get(conversation.team_id),
                        agent=users.get(conversation.agent_id))
            items.append(data)
        fetched += len(batch.items)
        if page >= batch.pages:
            break
        page += 1
    tickets = [desk.ticket(r) for r in desk.workflow.all_tickets(principal)]
    for ticket in tickets:  # owners are usernames: show them as the agents are shown
        ticket.owner = labels.get(ticket.owner, ticket.owner) if ticket.owner else ticket.owner
    options = {"channels": sorted({i["channel"] for i in items if i.get("channel")} | {t.channel for t in tickets}),
               "teams": sorted({i["team"] for i in items if i.get("team")} | {t.team for t in tickets if t.team}),
               "agents": sorted({i["agent"] for i in items if i.get("agent")} | {t.owner for t in tickets if t.owner})}
    return items, tickets, options


def make_report(store: Store, desk: TicketDesk, principal: Principal, query: dict[str, str],
                now: datetime | None = None) -> tuple[Report, dict[str, list[str]]]:
    """The report over what `principal` sees, filtered by `query` (FILTER_KEYS; dates as
    YYYY-MM-DD, one channel, team and agent each); AF65x for a bad filter."""
    items, tickets, options = report_inputs(store, desk, principal)
    filters = Filters.make(query.get("date_from") or None, query.get("date_to") or None,
                           channels=[query["channel"]] if query.get("channel") else [],
                           teams=[query["team"]] if query.get("team") else [],
                           agents=[query["agent"]] if query.get("agent") else [])
    return build_report(items, tickets, filters=filters, now=now or datetime.now(timezone.utc),
                        policies=desk.policies), options
