"""Analytics input: conversation records built from `anfu analyze` output objects plus
their metadata (date, channel, team, agent), and the filters every figure honours.

Metadata may sit at the top level of the object or under "meta" / "metadata". Fields that
an assessment does not carry yet (DESIGN.md: they may be absent, never faked) stay None and
are left out of the figures that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import AnalyticsError
from ..workflow.tickets import Ticket
from .buckets import AssessmentFacts, Bucket

DEFAULT_TIMEZONE = "Asia/Shanghai"
META_KEYS = ("date", "channel", "team", "agent")


def _day(value: Any, where: str, tz: ZoneInfo) -> date:
    """A local date from a date, an aware/naive datetime or an ISO string."""
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else _day(datetime.fromisoformat(text), where, tz)
        except ValueError:
            pass
    raise AnalyticsError("AF650", where, reason=f"date {value!r} is not YYYY-MM-DD or an ISO time")


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    day: date
    channel: str | None = None
    team: str | None = None
    agent: str | None = None
    peak: int | None = None           # highest customer intensity 0..4
    end: int | None = None            # intensity at the end
    calmed: bool | None = None        # 安抚成功
    escalation_level: int | None = None
    cause: str | None = None          # the customer's most frequent cause
    emotions: tuple[str, ...] = ()    # emotion of each customer turn
    valence: float | None = None      # mean valence of the customer turns
    quality_score: int | None = None

    @classmethod
    def from_assessment(cls, data: Any, tz: str = DEFAULT_TIMEZONE) -> "ConversationRecord":
        """Build a record from one `anfu analyze` object with its metadata."""
        if not isinstance(data, dict):
            raise AnalyticsError("AF650", type(data).__name__, reason="each record must be a JSON object")
        rid = data.get("id")
        if not isinstance(rid, str) or not rid:
            raise AnalyticsError("AF650", repr(rid), reason="\"id\" must be a non-empty string")
        if "error" in data:
            raise AnalyticsError("AF650", rid, reason="the analysis failed for this line "
                                 f"({data['error'].get('code') if isinstance(data['error'], dict) else data['error']})")
        meta = {key: data.get(key) for key in META_KEYS}
        for box in ("meta", "metadata"):
            if isinstance(data.get(box), dict):
                meta.update({k: v for k, v in data[box].items() if k in META_KEYS and v is not None})
        if meta["date"] is None:
            raise AnalyticsError("AF650", rid, reason="\"date\" is missing")
        facts = AssessmentFacts.of(data)
        return cls(
            id=rid,
            day=_day(meta["date"], rid, ZoneInfo(tz)),
            channel=meta["channel"] or data.get("channel"),
            team=meta["team"],
            agent=meta["agent"],
            peak=facts.peak,
            end=facts.end,
            calmed=facts.calmed,
            escalation_level=facts.escalation_level,
            cause=facts.cause,
            emotions=facts.emotions,
            valence=facts.valence,
            quality_score=facts.quality_score,
        )

    def bucket(self) -> Bucket:
        """This conversation as a bucket of one (what the figures read)."""
        facts = AssessmentFacts(peak=self.peak, end=self.end, calmed=self.calmed,
                                escalation_level=self.escalation_level, cause=self.cause, emotions=self.emotions,
                                valence=self.valence, quality_score=self.quality_score)
        return Bucket.of_facts(facts, day=self.day, channel=self.channel, team=self.team, agent=self.agent)


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive, local dates) and channel / team / agent selections; an empty
    selection means all."""

    date_from: date | None = None
    date_to: date | None = None
    channels: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)
    agents: frozenset[str] = field(default_factory=frozenset)
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def make(cls, date_from: Any = None, date_to: Any = None, channels: Iterable[str] = (),
             teams: Iterable[str] = (), agents: Iterable[str] = (), timezone: str = DEFAULT_TIMEZONE) -> "Filters":
        """Build filters from loose values (strings from a query string, lists…)."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise AnalyticsError("AF651", f"timezone={timezone!r}", reason="not an IANA time zone") from None
        days = []
        for name, value in (("date_from", date_from), ("date_to", date_to)):
            try:
                days.append(_day(value, name, zone) if value not in (None, "") else None)
            except AnalyticsError:
                raise AnalyticsError("AF651", f"{name}={value!r}", reason="use YYYY-MM-DD") from None
        if days[0] and days[1] and days[0] > days[1]:
            raise AnalyticsError("AF651", f"{days[0]} > {days[1]}", reason="date_from is after date_to")

        def group(name: str, values: Iterable[str]) -> frozenset[str]:
            items = values.split(",") if isinstance(values, str) else list(values)
            if any(not isinstance(v, str) for v in items):
                raise AnalyticsError("AF651", name, reason="values must be strings")
            return frozenset(v.strip() for v in items if v.strip())

        return cls(days[0], days[1], group("channels", channels), group("teams", teams),
                   group("agents", agents), timezone)

    def _keep(self, day: date, channel: str | None, team: str | None, agent: str | None) -> bool:
        if self.date_from and day < self.date_from:
            return False
        if self.date_to and day > self.date_to:
            return False
        if self.channels and channel not in self.channels:
            return False
        if self.teams and team not in self.teams:
            return False
        return not (self.agents and agent not in self.agents)

    def keep_record(self, record: ConversationRecord) -> bool:
        return self._keep(record.day, record.channel, record.team, record.agent)

    def keep_bucket(self, bucket: Bucket) -> bool:
        return self._keep(bucket.day, bucket.channel, bucket.team, bucket.agent)

    def ticket_day(self, ticket: Ticket) -> date:
        return ticket.created_at.astimezone(ZoneInfo(self.timezone)).date()

    def keep_ticket(self, ticket: Ticket) -> bool:
        return self._keep(self.ticket_day(ticket), ticket.channel, ticket.team, ticket.owner)

    def to_dict(self) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat() if self.date_from else None,
                "date_to": self.date_to.isoformat() if self.date_to else None,
                "channels": sorted(self.channels), "teams": sorted(self.teams), "agents": sorted(self.agents),
                "timezone": self.timezone}
