"""SLA (服务时限) of complaint tickets: policies per priority and channel read from the
`sla` rule pack, and `sla_status(ticket, now)` telling how much time is left, whether a
warning is due and whether a target is breached.

Two targets: the first answer (`response`) and resolution. Each counts open time of its
calendar while the ticket is active (open or reopened): the clock pauses while it waits on
the customer, and stops when the ticket is resolved. A policy's `calendar` serves both
targets unless `response_calendar` / `resolution_calendar` name another: "24小时内响应"
counts clock hours (the `always` calendar), while a written answer to an e-mail or letter
counts working hours of the business calendar (工作日, holidays excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Collection
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..rules import validator
from ..rules.checked import load_checked, number
from .calendar import BusinessCalendar, expand_days, parse_clock
from ..events import Event
from ..events import SlaBreached, SlaWarned, SupervisorAlerted
from .tickets import ACTIVE_STATUSES, PRIORITIES, Ticket, aware

TARGETS = ("response", "resolution")
CALENDAR_KEYS = ("calendar", "response_calendar", "resolution_calendar")
POLICY_KEYS = (*CALENDAR_KEYS, "response_hours", "resolution_hours", "warn_before_hours")


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    response_calendar: BusinessCalendar
    resolution_calendar: BusinessCalendar
    response: timedelta
    resolution: timedelta
    warn_before: timedelta

    def calendar(self, target: str) -> BusinessCalendar:
        return self.response_calendar if target == "response" else self.resolution_calendar


@dataclass(frozen=True)
class FollowUpRule:
    delay: timedelta
    calendar: BusinessCalendar


class SlaPolicies:
    """The policies of one `sla` pack, matched by priority and channel."""

    def __init__(self, data: dict[str, Any]) -> None:
        tz = data["timezone"]
        self.timezone = ZoneInfo(tz)  # the centre's clock: its days (ticket numbers), its hours
        self.calendars = {name: BusinessCalendar.from_dict(name, cal, tz)
                          for name, cal in data["calendars"].items()}
        self.default = self._policy("default", data["default"], {})
        self._rules: list[tuple[str | None, str | None, SlaPolicy]] = []
        for item in data.get("policies") or []:
            self._rules.append((item.get("priority"), item.get("channel"),
                                self._policy(item["name"], item, data["default"])))
        follow = data.get("followup") or {}
        self.followup = FollowUpRule(
            delay=timedelta(hours=follow.get("delay_hours", 24)),
            calendar=self.calendars[follow.get("calendar", data["default"]["calendar"])],
        )

    def _policy(self, name: str, item: dict[str, Any], base: dict[str, Any]) -> SlaPolicy:
        merged = {**base, **{k: v for k, v in item.items() if k in POLICY_KEYS}}

        def calendar(target: str) -> BusinessCalendar:
            # the policy's own keys first (target-specific, then `calendar`), then the default's
            for source in (item, base):
                for key in (f"{target}_calendar", "calendar"):
                    if key in source:
                        return self.calendars[source[key]]
            return self.calendars[base["calendar"]]

        return SlaPolicy(
            name=name,
            response_calendar=calendar("response"),
            resolution_calendar=calendar("resolution"),
            response=timedelta(hours=merged["response_hours"]),
            resolution=timedelta(hours=merged["resolution_hours"]),
            warn_before=timedelta(hours=merged["warn_before_hours"]),
        )

    @classmethod
    def load(cls, rules_dir: str | Path | None = None) -> "SlaPolicies":
        """Read and validate the `sla` pack (AF301 when it is invalid)."""
        data = load_checked("sla", rules_dir=rules_dir)
        cached = _CACHE.get(str(rules_dir))
        if cached is not None and cached[0] is data:
            return cached[1]
        policies = cls(data)
        _CACHE[str(rules_dir)] = (data, policies)
        return policies

    def policy_for(self, priority: str, channel: str | None) -> SlaPolicy:
        """Most specific match: priority + channel, then priority, then channel, then default."""
        best: tuple[int, SlaPolicy] | None = None
        for want_priority, want_channel, policy in self._rules:
            if want_priority is not None and want_priority != priority:
                continue
            if want_channel is not None and want_channel != channel:
                continue
            rank = (2 if want_priority else 0) + (1 if want_channel else 0)
            if best is None or rank > best[0]:
                best = (rank, policy)
        return best[1] if best else self.default


_CACHE: dict[str, tuple[dict[str, Any], SlaPolicies]] = {}


@dataclass(frozen=True)
class TargetState:
    """One SLA target at one instant."""

    target: str            # response | resolution
    allowed: timedelta
    elapsed: timedelta     # open, active time used so far (or until it was met)
    done: bool             # the first answer was given / the ticket was resolved
    warn_before: timedelta

    @property
    def remaining(self) -> timedelta:
        return self.allowed - self.elapsed

    @property
    def breached(self) -> bool:
        return self.elapsed > self.allowed

    @property
    def met(self) -> bool:
        return self.done and not self.breached

    @property
    def warning(self) -> bool:
        return not self.done and not self.breached and self.remaining <= self.warn_before


@dataclass(frozen=True)
class SlaStatus:
    ticket_id: str
    at: datetime
    policy: str
    paused: bool                 # the clock is not running now
    response: TargetState
    resolution: TargetState
    due_at: datetime | None      # when the current target breaches if the clock keeps running

    @property
    def current(self) -> TargetState:
        """The target being worked on: the answer first, then resolution."""
        return self.response if not self.response.done else self.resolution

    @property
    def remaining(self) -> timedelta:
        return self.current.remaining

    @property
    def warning(self) -> bool:
        return self.current.warning

    @property
    def breached(self) -> bool:
        return self.response.breached or self.resolution.breached

    def to_dict(self) -> dict[str, Any]:
        def target(t: TargetState) -> dict[str, Any]:
            return {"allowed_seconds": t.allowed.total_seconds(), "elapsed_seconds": t.elapsed.total_seconds(),
                    "remaining_seconds": t.remaining.total_seconds(), "done": t.done,
                    "warning": t.warning, "breached": t.breached, "met": t.met}
        return {"ticket_id": self.ticket_id, "at": self.at.isoformat(), "policy": self.policy,
                "paused": self.paused, "remaining_seconds": self.remaining.total_seconds(),
                "warning": self.warning, "breached": self.breached,
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "response": target(self.response), "resolution": target(self.resolution)}


def active_intervals(ticket: Ticket, until: datetime) -> list[tuple[datetime, datetime]]:
    """The spans in which the ticket was open or reopened, up to `until`."""
    spans: list[tuple[datetime, datetime]] = []
    status, since = "open", ticket.created_at
    for step in ticket.history:
        if step.kind != "status":
            continue
        if status in ACTIVE_STATUSES and step.to_value not in ACTIVE_STATUSES:
            spans.append((since, min(step.at, until)))
        if status not in ACTIVE_STATUSES and step.to_value in ACTIVE_STATUSES:
            since = step.at
        status = step.to_value
    if status in ACTIVE_STATUSES:
        spans.append((since, until))
    return [(a, b) for a, b in spans if b > a]


def _first_resolution(ticket: Ticket) -> datetime | None:
    for step in ticket.history:
        if step.kind == "status" and step.to_value == "resolved":
            return step.at
    return None


def sla_status(ticket: Ticket, now: datetime | None = None, policies: SlaPolicies | None = None) -> SlaStatus:
    """Where the ticket stands against its SLA at `now` (default: the current time)."""
    now = aware(now, "now") if now is not None else datetime.now(timezone.utc)
    policies = policies or SlaPolicies.load()
    policy = policies.policy_for(ticket.priority, ticket.channel)

    def used(until: datetime, target: str) -> timedelta:
        cal = policy.calendar(target)
        seconds = sum(cal.seconds_between(a, b) for a, b in active_intervals(ticket, until))
        return timedelta(seconds=seconds)

    answered = ticket.first_response_at or _first_resolution(ticket)
    if answered is not None and answered > now:
        answered = None
    response = TargetState("response", policy.response, used(answered or now, "response"), answered is not None,
                           policy.warn_before)
    resolved = ticket.status in ("resolved", "closed")
    resolution = TargetState("resolution", policy.resolution, used(now, "resolution"), resolved,
                             policy.warn_before)
    paused = ticket.status not in ACTIVE_STATUSES
    status = SlaStatus(ticket.id, now, policy.name, paused, response, resolution, None)
    current = status.current
    if not paused and not current.done and current.remaining > timedelta(0):
        due = policy.calendar(current.target).add(now, current.remaining.total_seconds())
        status = SlaStatus(ticket.id, now, policy.name, paused, response, resolution, due)
    return status


def alert_key(event: Event) -> str:
    """Identity of an SLA alert, so a sweep sends each warning and breach once."""
    return f"{event.name}:{getattr(event, 'target', '')}"


def sla_alerts(ticket: Ticket, status: SlaStatus, already: Collection[str] = ()) -> list[Event]:
    """Warnings and breaches not yet sent (`already` holds their `alert_key`s). A breach
    also alerts the supervisor (escalation of the overdue ticket)."""
    out: list[Event] = []
    at = status.at.isoformat()
    for target in (status.response, status.resolution):
        if target.warning:
            event: Event = SlaWarned(ticket_id=ticket.id, at=at, target=target.target, policy=status.policy,
                                     remaining_seconds=target.remaining.total_seconds())
            if alert_key(event) not in already:
                out.append(event)
        if target.breached:
            breach = SlaBreached(ticket_id=ticket.id, at=at, target=target.target, policy=status.policy,
                                 overdue_seconds=-target.remaining.total_seconds())
            if alert_key(breach) not in already:
                out.append(breach)
                out.append(SupervisorAlerted(ticket_id=ticket.id, at=at, reason="sla_breached",
                                             detail=target.target, owner=ticket.owner))
    return out


# ---------------------------------------------------------------------- validation
def _check_calendar(name: str, cal: Any, problems: list[str]) -> None:
    where = f"calendars.{name}"
    if not isinstance(cal, dict):
        problems.append(f"{where} must be a mapping")
        return
    days = cal.get("weekdays")
    if not isinstance(days, list) or not days or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
        problems.append(f"{where}.weekdays must be a non-empty list of ISO weekday numbers 1-7")
    hours = cal.get("hours")
    if not isinstance(hours, list) or not hours:
        problems.append(f"{where}.hours must be a non-empty list of [\"HH:MM\", \"HH:MM\"] pairs")
    else:
        spans = []
        for i, pair in enumerate(hours):
            try:
                start, end = (parse_clock(v) for v in pair)
            except (TypeError, ValueError, AttributeError):
                problems.append(f"{where}.hours[{i}] must be two times \"HH:MM\" (00:00-24:00)")
                continue
            if start >= end:
                problems.append(f"{where}.hours[{i}] must end after it starts")
            spans.append((start, end))
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            problems.append(f"{where}.hours must not overlap")
    for key in ("holidays", "workdays"):
        try:
            entries = cal.get(key) or []
            if not isinstance(entries, list):
                raise TypeError
            expand_days(entries)
        except (TypeError, ValueError, KeyError):
            problems.append(f"{where}.{key} must list dates (YYYY-MM-DD) or {{name, from, to}} ranges")


def _check_targets(where: str, item: dict[str, Any], calendars: dict[str, Any], problems: list[str],
                   required: bool) -> None:
    for key in ("response_hours", "resolution_hours", "warn_before_hours"):
        if key in item:
            number(item[key], f"{where}.{key}", problems, low=0, high=24 * 365)
        elif required:
            problems.append(f"{where}.{key} is required")
    for key in CALENDAR_KEYS:
        if key in item and item[key] not in calendars:
            problems.append(f"{where}.{key} {item[key]!r} is not one of calendars: {sorted(calendars)}")
    if required and "calendar" not in item:
        problems.append(f"{where}.calendar is required")


@validator("sla")
def validate_sla(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    try:
        ZoneInfo(str(data.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone {data.get('timezone')!r} is not an IANA time zone (e.g. Asia/Shanghai)")
    calendars = data.get("calendars")
    if not isinstance(calendars, dict) or not calendars:
        return problems + ["calendars must map names to calendars"]
    for name, cal in calendars.items():
        _check_calendar(str(name), cal, problems)
    default = data.get("default")
    if not isinstance(default, dict):
        return problems + ["default must be a mapping with calendar, response_hours, resolution_hours, "
                           "warn_before_hours"]
    _check_targets("default", default, calendars, problems, required=True)
    seen: set[tuple[Any, Any]] = set()
    names: set[str] = set()
    for i, item in enumerate(data.get("policies") or []):
        where = f"policies[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name or name in names:
            problems.append(f"{where}.name must be a unique non-empty string")
        names.add(str(name))
        unknown = set(item) - {"name", "priority", "channel", *POLICY_KEYS}
        if unknown:
            problems.append(f"{where} has unknown keys {sorted(unknown)}")
        if "priority" not in item and "channel" not in item:
            problems.append(f"{where} must match a priority, a channel or both")
        if "priority" in item and item["priority"] not in PRIORITIES:
            problems.append(f"{where}.priority must be one of {list(PRIORITIES)}")
        if "channel" in item and not (isinstance(item["channel"], str) and item["channel"]):
            problems.append(f"{where}.channel must be a non-empty string")
        key = (item.get("priority"), item.get("channel"))
        if key in seen:
            problems.append(f"{where} matches the same priority and channel as an earlier policy")
        seen.add(key)
        _check_targets(where, item, calendars, problems, required=False)
        merged = {**default, **item}
        if all(isinstance(merged.get(k), (int, float)) for k in ("response_hours", "resolution_hours",
                                                                  "warn_before_hours")):
            if merged["resolution_hours"] < merged["response_hours"]:
                problems.append(f"{where}: resolution_hours must not be shorter than response_hours")
            if merged["warn_before_hours"] >= merged["response_hours"]:
                problems.append(f"{where}: warn_before_hours must be shorter than response_hours")
    follow = data.get("followup")
    if follow is not None:
        if not isinstance(follow, dict):
            problems.append("followup must be a mapping with delay_hours and calendar")
        else:
            number(follow.get("delay_hours"), "followup.delay_hours", problems, low=0, high=24 * 90)
            if follow.get("calendar", default.get("calendar")) not in calendars:
                problems.append("followup.calendar must name one of calendars")
    return problems
