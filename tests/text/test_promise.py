"""Human time promises (承诺时限): what an agent would say at each hour of the day."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from anfu.text.promise import PromiseWindow, clock_words, promise_text, span_text

SH = ZoneInfo("Asia/Shanghai")
MINUTE_CLOCK = re.compile(r"\d{1,2}:\d{2}")


def at(hour: int, minute: int, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SH)  # 2026-03-02 is a Monday


@pytest.mark.parametrize("now,hours,said", [
    (at(9, 5), 2, "今天上午11点半前"),      # short, inside the working window: half-hour clock time
    (at(14, 5), 2, "今天下午4点半前"),
    (at(14, 0), 2, "今天下午4点前"),
    (at(9, 5), 8, "今天下午6点前"),          # longer: the full hour
    (at(14, 5), 24, "明天下午3点前"),
    (at(17, 40), 2, "2小时内"),              # due after the window: said as a span (抢修 runs at night)
    (at(22, 6), 2, "2小时内"),
    (at(0, 10), 2, "2小时内"),
    (at(14, 5), 8, "明天上午10点前"),        # due late in the evening: the next working morning
    (at(21, 0), 8, "明天上午10点前"),        # due before the window opens: that morning at 10
    (at(22, 6), 24, "后天上午10点前"),
    (at(10, 0), 72, "3月5日前"),             # days ahead: a date
    (at(22, 6), 0.5, "30分钟内"),
    (at(11, 50), 1, "今天下午1点前"),
])
def test_promises_read_like_an_agent(now: datetime, hours: float, said: str) -> None:
    text = promise_text(now, hours)
    assert text == said
    assert not MINUTE_CLOCK.search(text)


def test_every_hour_of_the_day_gives_a_promise_no_earlier_than_the_commitment() -> None:
    window = PromiseWindow()
    for hour in range(24):
        for minute in (0, 7, 31, 59):
            now = at(hour, minute)
            for hours in (2, 4, 8, 24, 48):
                text = promise_text(now, hours, window)
                assert not MINUTE_CLOCK.search(text) and "凌晨" not in text, (now, hours, text)
                assert not text.startswith("今天晚上") or hour < 19 - hours + 1, (now, hours, text)


def test_spans_and_clock_words() -> None:
    assert span_text(0.5) == "30分钟内" and span_text(0.26) == "20分钟内"
    assert span_text(4) == "4小时内" and span_text(72) == "3天内" and span_text(30) == "30小时内"
    assert clock_words(at(12, 30)) == "中午12点半" and clock_words(at(19, 0)) == "晚上7点"
    assert clock_words(at(10, 0)) == "上午10点"


def test_window_from_settings() -> None:
    window = PromiseWindow.from_settings({"start": "09:00", "end": "18:00", "next_morning": "09:30",
                                          "short_hours": 3})
    assert window.start == time(9) and window.next_morning == time(9, 30) and window.short_hours == 3
    assert promise_text(at(17, 0), 8, window) == "明天上午9点半前"


def test_strategy_pack_checks_its_promise_window() -> None:
    from anfu.components.strategy import validate_strategies
    from anfu.rules import load_pack

    data = dict(load_pack("strategies"))
    assert validate_strategies(data) == []
    data["settings"] = {**data["settings"], "promise_window": {"start": "19:00", "end": "08:30",
                                                               "next_morning": "10:00", "short_hours": 4}}
    assert any("promise_window" in p for p in validate_strategies(data))
    data["settings"] = {**data["settings"], "promise_window": {"start": "8点"}}
    assert any("promise_window" in p for p in validate_strategies(data))
