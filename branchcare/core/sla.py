"""SLA clock: deadline arithmetic over a service calendar. Pure functions, no database.

A :class:`ServiceCalendar` says which days are working days (XSHG trading days, office days, or
every day) and which hours of a working day count (e.g. the trading sessions 09:30–11:30 and
13:00–15:00; office hours; or the whole day for 24×7 service). Durations are *working* time:
a 2-hour deadline set at 14:30 on a Friday with trading sessions ends at 10:30 on the next
trading day, skipping the evening, the weekend and any holiday.

Outside the calendar's known range (China publishes each next year's holidays late in the year)
every function raises :class:`CalendarRangeError` instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRADING_SESSIONS = ((dt.time(9, 30), dt.time(11, 30)), (dt.time(13, 0), dt.time(15, 0)))
OFFICE_HOURS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 30)))
WHOLE_DAY = ((dt.time(0, 0), dt.time.max),)
MAX_DAYS = 800


class CalendarRangeError(ValueError):
    """The instant lies beyond the dates the calendar knows."""

    def __init__(self, day: dt.date, known_until: dt.date | None):
        self.day, self.known_until = day, known_until
        super().__init__(
            f"服务日历只覆盖到 {known_until}，无法计算 {day} 的期限；请管理员先录入新一年的节假日安排。"
        )


@dataclass(frozen=True)
class ServiceCalendar:
    """Working days and working hours. ``days`` is None for "every day" (24×7)."""

    windows: tuple[tuple[dt.time, dt.time], ...]
    days: frozenset[dt.date] | None = None
    known_from: dt.date | None = None
    known_until: dt.date | None = None
    tz: ZoneInfo = field(default=SHANGHAI)

    def is_working_day(self, day: dt.date) -> bool:
        if (self.known_until and day > self.known_until) or (self.known_from and day < self.known_from):
            raise CalendarRangeError(day, self.known_until)
        return True if self.days is None else day in self.days

    def _intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_working_day(day):
            return []
        out = []
        for start, end in self.windows:
            a = dt.datetime.combine(day, start, tzinfo=self.tz)
            b = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
                if end == dt.time.max
                else dt.datetime.combine(day, end, tzinfo=self.tz)
            )
            out.append((a, b))
        return out


def calendar_from_days(
    days: Iterable[dt.date],
    *,
    windows: tuple[tuple[dt.time, dt.time], ...] = TRADING_SESSIONS,
    known_from: dt.date,
    known_until: dt.date,
) -> ServiceCalendar:
    return ServiceCalendar(
        windows=windows, days=frozenset(days), known_from=known_from, known_until=known_until
    )


def always_open() -> ServiceCalendar:
    """24×7 service (premium desk): every instant counts."""
    return ServiceCalendar(windows=WHOLE_DAY, days=None)


def add_working_time(cal: ServiceCalendar, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """The instant at which ``duration`` of working time has passed since ``start``."""
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative")
    start = start.astimezone(cal.tz)
    remaining = duration
    day = start.date()
    for _ in range(MAX_DAYS):
        for a, b in cal._intervals(day):
            if b <= start:
                continue
            a = max(a, start)
            span = b - a
            if remaining <= span:
                return a + remaining
            remaining -= span
        day += dt.timedelta(days=1)
    raise CalendarRangeError(day, cal.known_until)


def working_time_between(cal: ServiceCalendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time elapsed from ``start`` to ``end`` (zero when end is before start)."""
    start, end = start.astimezone(cal.tz), end.astimezone(cal.tz)
    total = dt.timedelta(0)
    if end <= start:
        return total
    day = start.date()
    while day <= end.date():
        for a, b in cal._intervals(day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


def deadline_marks(
    cal: ServiceCalendar, start: dt.datetime, duration: dt.timedelta, *, warn_fraction: float = 0.8
) -> tuple[dt.datetime, dt.datetime]:
    """``(warn_at, due_at)``: the warning instant after ``warn_fraction`` of the allowed time, and the due instant."""
    due = add_working_time(cal, start, duration)
    warn = add_working_time(cal, start, duration * warn_fraction)
    return warn, due
