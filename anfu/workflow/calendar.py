"""Business calendar (工作日历): open weekdays and hours, public holidays (法定节假日) and
weekend make-up workdays (调休上班), in one time zone.

`seconds_between` counts open seconds between two instants; `add` finds the instant a
number of open seconds after a start. SLA clocks and follow-up due times use both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

from ..errors import WorkflowError

# How far `add` looks ahead for open hours before it gives up (AF610).
SEARCH_DAYS = 400


def parse_clock(value: str) -> int:
    """'08:30' -> minutes after midnight; '24:00' is the end of the day."""
    hours, minutes = value.split(":")
    total = int(hours) * 60 + int(minutes)
    if not (0 <= int(minutes) < 60 and 0 <= total <= 24 * 60):
        raise ValueError(value)
    return total


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def expand_days(entries: Iterable[Any]) -> set[date]:
    """Dates from a list of dates and {name, from, to} ranges (both ends included)."""
    days: set[date] = set()
    for entry in entries:
        if isinstance(entry, dict):
            first, last = parse_date(entry["from"]), parse_date(entry.get("to", entry["from"]))
            while first <= last:
                days.add(first)
                first += timedelta(days=1)
        else:
            days.add(parse_date(entry))
    return days


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    timezone: str
    weekdays: frozenset[int]                 # ISO weekday numbers, 1 = Monday
    hours: tuple[tuple[int, int], ...]       # open windows, minutes after midnight
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days that are worked (调休)

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any], timezone: str) -> "BusinessCalendar":
        hours = tuple(sorted((parse_clock(a), parse_clock(b)) for a, b in data["hours"]))
        return cls(
            name=name,
            timezone=timezone,
            weekdays=frozenset(int(d) for d in data["weekdays"]),
            hours=hours,
            holidays=frozenset(expand_days(data.get("holidays") or [])),
            workdays=frozenset(expand_days(data.get("workdays") or [])),
        )

    @property
    def round_the_clock(self) -> bool:
        """Open every hour of every day (natural hours, 自然小时): holidays change nothing."""
        return self.weekdays == frozenset(range(1, 8)) and self.hours == ((0, 1440),) and not self.holidays

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """Open intervals of one local day, as aware datetimes."""
        if not self.is_open_day(day):
            return []
        tz = self.tz
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        out = []
        for start, end in self.hours:
            # build from the wall clock so a '24:00' end lands on the next midnight
            begin = midnight.replace(hour=start // 60, minute=start % 60) if start < 1440 else None
            finish = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) if end == 1440
                      else midnight.replace(hour=end // 60, minute=end % 60))
            if begin is not None and begin < finish:
                out.append((begin, finish))
        return out

    def _days(self, start: datetime, end: datetime) -> Iterator[date]:
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            yield day
            day += timedelta(days=1)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0.0
        total = 0.0
        for day in self._days(start, end):
            for begin, finish in self.windows(day):
                lo, hi = max(begin, start), min(finish, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` open seconds after `start` (start itself when 0)."""
        left = max(0.0, float(seconds))
        day = start.astimezone(self.tz).date()
        for _ in range(SEARCH_DAYS):
            for begin, finish in self.windows(day):
                lo = max(begin, start)
                if finish <= lo:
                    continue
                span = (finish - lo).total_seconds()
                if left <= span:
                    return lo + timedelta(seconds=left)
                left -= span
            day += timedelta(days=1)
        raise WorkflowError("AF610", self.name, days=SEARCH_DAYS)

    def is_open(self, at: datetime) -> bool:
        day = at.astimezone(self.tz).date()
        return any(b <= at < f for b, f in self.windows(day))
