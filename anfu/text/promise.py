"""Human time promises (承诺时限) for suggested replies: "30分钟内", "今天下午4点前",
"明天上午10点前", "3月5日前" — what an agent would say, never a minute-precise clock time
such as 明天0:10前.

`promise_text(now, hours, window)` turns a commitment of `hours` made at `now` into words:

* under an hour: minutes, rounded up to 5 ("30分钟内");
* a short commitment (at most `short_hours`): a clock time rounded up to the half hour when
  it falls inside the working window ("今天上午11点半前"), otherwise the span ("2小时内"),
  so an overnight outage repair is still promised within hours, not for the next morning;
* a longer one: the due hour rounded up to the full hour when it falls inside the window;
  due in the evening or at night, it moves to `next_morning` of the next working morning
  ("明天上午10点前"); two days or more ahead, a date ("3月5日前").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAY_WORDS = {0: "今天", 1: "明天", 2: "后天"}


@dataclass(frozen=True)
class PromiseWindow:
    """Hours in which a clock-time promise is natural (a back office answers in them)."""

    start: time = time(8, 30)
    end: time = time(19, 0)
    next_morning: time = time(10, 0)  # promise for a due time that falls outside the window
    short_hours: float = 4.0

    @classmethod
    def from_settings(cls, data: dict[str, str | float]) -> "PromiseWindow":
        return cls(time.fromisoformat(str(data["start"])), time.fromisoformat(str(data["end"])),
                   time.fromisoformat(str(data["next_morning"])), float(data["short_hours"]))

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment.timetz().replace(tzinfo=None) <= self.end


def span_text(hours: float) -> str:
    """A commitment as a span: 30分钟内, 2小时内, 3天内."""
    if hours < 1:
        return f"{max(5, math.ceil(hours * 60 / 5) * 5)}分钟内"
    if hours <= 48 or hours % 24:
        return f"{math.ceil(hours * 2) / 2:g}小时内"
    return f"{int(hours // 24)}天内"


def clock_words(moment: datetime) -> str:
    """上午10点, 中午12点半, 下午6点, 晚上7点 (12-hour clock with the part of the day)."""
    hour, minute = moment.hour, moment.minute
    if hour < 6:
        part = "凌晨"
    elif hour < 12:
        part = "上午"
    elif hour < 13:
        part = "中午"
    elif hour < 19:
        part = "下午"
    else:
        part = "晚上"
    shown = hour if hour <= 12 else hour - 12
    return f"{part}{shown}点" + ("半" if minute == 30 else "")


def _round_up(moment: datetime, minutes: int) -> datetime:
    base = moment.replace(minute=0, second=0, microsecond=0)
    steps = math.ceil((moment - base).total_seconds() / (minutes * 60))
    return base + timedelta(minutes=steps * minutes)


def _day_word(now: datetime, due: datetime) -> str | None:
    return DAY_WORDS.get((due.date() - now.date()).days)


def promise_text(now: datetime, hours: float, window: PromiseWindow = PromiseWindow()) -> str:
    """The words for a commitment of `hours` made at local time `now` (see the module doc)."""
    if hours < 1:
        return span_text(hours)
    if hours <= window.short_hours:
        due = _round_up(now + timedelta(hours=hours), 30)
        day = _day_word(now, due)
        if day is not None and window.contains(now) and window.contains(due):
            return f"{day}{clock_words(due)}前"
        return span_text(hours)
    due = _round_up(now + timedelta(hours=hours), 60)
    if not window.contains(due):
        morning = due.replace(hour=window.next_morning.hour, minute=window.next_morning.minute)
        due = morning if due.timetz().replace(tzinfo=None) < window.start else morning + timedelta(days=1)
    day = _day_word(now, due)
    if day is None:
        return f"{due.month}月{due.day}日前"
    return f"{day}{clock_words(due)}前"
