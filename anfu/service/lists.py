"""Conversation lists (会话列表, issue 13): mine / team / unassigned / closed, with filters, and
each user's saved views of them.

- **mine**: open and pending conversations assigned to me;
- **team**: open and pending conversations of my team, those still waiting in its queue included
  (admins and auditors without a team: the tenant's); an agent still sees only their own, as
  everywhere (`anfu.store.access`);
- **unassigned**: open conversations nobody handles yet, of my team's queue (admins and
  auditors: the tenant's) — an agent sees that they wait, and claims one to read it;
- **closed**: the closed conversations I may see (the history).

Filters: status (mine and team only), channel, industry, emotion, lowest escalation level and
last activity between two days. A saved view is a name for a list with its filters; it belongs to
the user who saved it. Bad values are coded errors (AF682–AF684, AF010 for an emotion).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..errors import InputError
from ..glossary import EMOTIONS, INDUSTRIES
from ..store import ConversationFilter, ConversationRecord, Page, SavedView, SavedViewStore, Store
from ..store.access import TENANT_WIDE, Principal
from ..store.tables import CONVERSATION_STATUSES

SCOPES: tuple[str, ...] = ("mine", "team", "unassigned", "closed")
ACTIVE = ("open", "pending")
# the channels the web form offers; the API takes any channel name (they are free: a connector
# or an import may name its own)
CHANNELS: tuple[str, ...] = ("webchat", "email", "call", "import", "chatwoot", "zammad")
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_NAME = 100


@dataclass(frozen=True)
class ListFilters:
    """The filters a list and a saved view carry (None: any)."""

    status: str | None = None
    channel: str | None = None
    industry: str | None = None
    emotion: str | None = None
    min_level: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "ListFilters":
        """From query parameters, a form or a stored view: empty strings mean "any"; unknown
        keys and bad values are refused (AF682, AF010)."""
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError("AF682", ", ".join(sorted(unknown)), kind="list filter",
                             allowed=", ".join(f.name for f in fields(cls)))
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
        values = {k: v for k, v in values.items() if v not in (None, "")}
        for key, allowed in (("status", CONVERSATION_STATUSES), ("industry", INDUSTRIES)):
            if key in values and values[key] not in allowed:
                raise InputError("AF682", repr(values[key]), kind=key, allowed=", ".join(allowed))
        if "channel" in values and not (isinstance(values["channel"], str) and CHANNEL_NAME.fullmatch(values["channel"])):
            raise InputError("AF682", repr(values["channel"]), kind="channel",
                             allowed="a channel name in lower-case letters, digits and _ (e.g. " + ", ".join(CHANNELS) + ")")
        if "emotion" in values and values["emotion"] not in EMOTIONS:
            raise InputError("AF010", repr(values["emotion"]), allowed=", ".join(EMOTIONS))
        if "min_level" in values:
            try:
                level = int(values["min_level"])
            except (TypeError, ValueError):
                level = -1
            if not 0 <= level <= 3:
                raise InputError("AF682", repr(values["min_level"]), kind="escalation level", allowed="0, 1, 2, 3")
            values["min_level"] = level
        for key in ("date_from", "date_to"):
            if key in values and not isinstance(values[key], date):
                try:
                    values[key] = date.fromisoformat(str(values[key]))
                except ValueError:
                    raise InputError("AF682", repr(values[key]), kind=key, allowed="a day as YYYY-MM-DD") from None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """What a saved view stores: the filters that are set, days as YYYY-MM-DD."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v is not None}


def _day(value: date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    if end and value >= date.max - timedelta(days=1):
        return None
    start = datetime.combine(value, time.min, tzinfo=timezone.utc)
    return start + timedelta(days=1) if end else start


def scope_filter(principal: Principal, scope: str, filters: ListFilters) -> ConversationFilter:
    """The store filter of one list for `principal` (AF682 for an unknown list, AF684 for a
    status filter on a list whose status is fixed)."""
    if scope not in SCOPES:
        raise InputError("AF682", repr(scope), kind="list", allowed=", ".join(SCOPES))
    fixed = {"unassigned": "open", "closed": "closed"}.get(scope)
    if fixed is not None and filters.status not in (None, fixed):
        raise InputError("AF684", scope, status=fixed)
    common: dict[str, Any] = dict(channel=filters.channel, industry=filters.industry, emotion=filters.emotion,
                                  min_escalation=filters.min_level, updated_since=_day(filters.date_from),
                                  updated_until=_day(filters.date_to, end=True))
    if scope == "mine":
        if principal.user_id is None:
            raise InputError("AF682", "'mine'", kind="list for an API token", allowed="team, unassigned, closed")
        return ConversationFilter(agent_id=principal.user_id, status=filters.status,
                                  statuses=None if filters.status else ACTIVE, **common)
    if scope == "team":
        team = principal.team_id if principal.team_id is not None or principal.role not in TENANT_WIDE else None
        return ConversationFilter(team_id=team, status=filters.status,
                                  statuses=None if filters.status else ACTIVE, **common)
    if scope == "unassigned":
        return ConversationFilter(unassigned=True, status="open", **common)
    return ConversationFilter(status="closed", **common)


class ConversationLists:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.views_store = SavedViewStore(store.engine, clock=store.clock)

    def conversations(self, principal: Principal, scope: str, filters: ListFilters | None = None, *,
                      page: int = 1, page_size: int = 50) -> Page[ConversationRecord]:
        """One list, newest activity first."""
        where = scope_filter(principal, scope, filters or ListFilters())
        return self.store.list_conversations(principal, where, page=page, page_size=page_size)

    def counts(self, principal: Principal) -> dict[str, int]:
        """How many conversations each list holds (the tabs' badges)."""
        out = {}
        for scope in SCOPES:
            if scope == "mine" and principal.user_id is None:
                continue
            out[scope] = self.conversations(principal, scope, page_size=1).total
        return out

    # saved views --------------------------------------------------------------------------
    def views(self, principal: Principal) -> list[SavedView]:
        return self.views_store.list_views(principal)

    def view(self, principal: Principal, view_id: int) -> SavedView:
        return self.views_store.get_view(view_id, principal)

    def save_view(self, principal: Principal, name: str, scope: str, filters: ListFilters) -> SavedView:
        """Store a named list with its filters for `principal` (AF683 for a bad name, AF504 when
        they already have a view of that name)."""
        name = (name or "").strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise InputError("AF683", f"{len(name)} characters", limit=MAX_NAME)
        scope_filter(principal, scope, filters)  # the same checks as showing it
        return self.views_store.create_view(principal, name, scope, filters.to_dict())

    def delete_view(self, principal: Principal, view_id: int) -> None:
        self.views_store.delete_view(view_id, principal)


__all__ = ["ACTIVE", "CHANNELS", "ConversationLists", "ListFilters", "SCOPES", "scope_filter"]
