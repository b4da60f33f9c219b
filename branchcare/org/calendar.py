"""The trading calendar (交易日历) and the service standard in force on a date. Reads only.

Trading days come from the XSHG calendar of ``exchange-calendars``, corrected by the company-wide
``CalendarOverride`` rows, and extended past the library's last known session by the administrator's
``CalendarCoverage`` declaration: from the day after the library's range up to the declared date, Monday
to Friday count as trading days, less the holidays entered as overrides. Past the known range every
function raises :class:`~branchcare.core.sla.CalendarRangeError` (a Chinese message) rather than guess.

Building the calendar is cached: the library's sessions once per process, the combined day set per
state of the override and coverage tables. The state is read from the database (two small queries) on
each build, so a change made in one process or rolled back in another never leaves a stale calendar
behind. Callers that need many dates build one calendar and pass it as ``cal=``.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from dataclasses import dataclass

from django.utils import timezone

from branchcare.core.sla import TRADING_SESSIONS, CalendarRangeError, ServiceCalendar, calendar_from_days

from .models import Branch, CalendarCoverage, CalendarOverride, ServiceStandard

EXCHANGE = "XSHG"
WARN_DAYS = 30  # the director is warned when fewer days than this remain known

Windows = tuple[tuple[dt.time, dt.time], ...]
Overrides = tuple[tuple[dt.date, str], ...]

__all__ = [
    "WARN_DAYS",
    "CalendarDay",
    "CalendarRangeError",
    "CalendarStatus",
    "calendar_days",
    "calendar_days_remaining",
    "calendar_status",
    "is_trading_day",
    "library_days",
    "library_range",
    "next_trading_day",
    "service_calendar_for",
    "standard_for",
    "trading_calendar",
    "trading_days_between",
]


# --- building ------------------------------------------------------------------------------------------


@functools.cache
def _library_sessions() -> tuple[frozenset[dt.date], dt.date, dt.date]:
    """The library's XSHG sessions, first and last session. Built once per process (~10 ms + import)."""
    import exchange_calendars as xc

    with warnings.catch_warnings():  # the library's pandas deprecation noise, not ours to fix
        warnings.simplefilter("ignore")
        cal = xc.get_calendar(EXCHANGE)
    days = frozenset(ts.date() for ts in cal.sessions)
    return days, cal.first_session.date(), cal.last_session.date()


def library_days() -> frozenset[dt.date]:
    """The XSHG sessions the installed exchange-calendars library knows."""
    return _library_sessions()[0]


def library_range() -> tuple[dt.date, dt.date]:
    """``(first, last)`` session the installed exchange-calendars library knows."""
    _days, first, last = _library_sessions()
    return first, last


@functools.lru_cache(maxsize=16)
def _combined_days(
    overrides: Overrides, coverage: dt.date | None
) -> tuple[frozenset[dt.date], dt.date, dt.date]:
    """Trading days, known_from and known_until for one state of the override and coverage tables."""
    library_days, first, last = _library_sessions()
    known_until = max(last, coverage) if coverage else last
    days = set(library_days)
    day = last + dt.timedelta(days=1)
    while day <= known_until:
        if day.weekday() < 5:
            days.add(day)
        day += dt.timedelta(days=1)
    for date, kind in overrides:
        if kind == CalendarOverride.Kind.HOLIDAY:
            days.discard(date)
        else:
            days.add(date)
    return frozenset(days), first, known_until


def _state() -> tuple[Overrides, dt.date | None]:
    """The override and coverage tables as a hashable key (both are small)."""
    overrides = tuple(CalendarOverride.objects.order_by("date").values_list("date", "kind"))
    coverage = (
        CalendarCoverage.objects.order_by("-created_at", "-id").values_list("known_until", flat=True).first()
    )
    return overrides, coverage


def trading_calendar(
    *, branch: Branch | None = None, windows: Windows | None = None, on: dt.date | None = None
) -> ServiceCalendar:
    """The XSHG trading calendar as a ``core.sla.ServiceCalendar``.

    Working hours are ``windows`` when given, else the service hours of ``branch``'s standard in force
    ``on`` that date (default today), else the trading sessions.
    """
    if windows is None:
        windows = standard_for(branch, on or timezone.localdate()).windows if branch else TRADING_SESSIONS
    days, known_from, known_until = _combined_days(*_state())
    return calendar_from_days(days, windows=windows, known_from=known_from, known_until=known_until)


def service_calendar_for(branch: Branch, date: dt.date) -> ServiceCalendar:
    """Trading days × the service hours of ``branch``'s standard in force on ``date`` (for SLA clocks)."""
    return trading_calendar(windows=standard_for(branch, date).windows)


# --- questions about days ------------------------------------------------------------------------------


def is_trading_day(date: dt.date, *, cal: ServiceCalendar | None = None) -> bool:
    """Whether the exchange trades on ``date``; ``CalendarRangeError`` outside the known range."""
    return (cal or trading_calendar()).is_working_day(date)


def next_trading_day(date: dt.date, *, cal: ServiceCalendar | None = None) -> dt.date:
    """The first trading day strictly after ``date``."""
    cal = cal or trading_calendar()
    day = date + dt.timedelta(days=1)
    while not cal.is_working_day(day):  # raises CalendarRangeError past known_until
        day += dt.timedelta(days=1)
    return day


def trading_days_between(a: dt.date, b: dt.date, *, cal: ServiceCalendar | None = None) -> list[dt.date]:
    """The trading days from ``a`` to ``b``, both included (empty when ``b`` is before ``a``)."""
    cal = cal or trading_calendar()
    if b < a:
        return []
    cal.is_working_day(b)  # both ends must lie in the known range (raises otherwise)
    span = (a + dt.timedelta(days=i) for i in range((b - a).days + 1))
    return [d for d in span if cal.is_working_day(d)]


def calendar_days_remaining(today: dt.date | None = None, *, cal: ServiceCalendar | None = None) -> int:
    """Calendar days from ``today`` to the last known date (negative once it has passed)."""
    cal = cal or trading_calendar()
    known_until = cal.known_until or dt.date.max
    return (known_until - (today or timezone.localdate())).days


@dataclass(frozen=True)
class CalendarStatus:
    today: dt.date
    library_until: dt.date
    coverage_until: dt.date | None
    known_until: dt.date
    days_remaining: int

    @property
    def warn(self) -> bool:
        return self.days_remaining < WARN_DAYS

    @property
    def expired(self) -> bool:
        return self.days_remaining < 0


def calendar_status(today: dt.date | None = None) -> CalendarStatus:
    """How far the calendar is known, and whether the director should be warned."""
    today = today or timezone.localdate()
    overrides, coverage = _state()
    _days, _first, known_until = _combined_days(overrides, coverage)
    return CalendarStatus(
        today=today,
        library_until=library_range()[1],
        coverage_until=coverage,
        known_until=known_until,
        days_remaining=(known_until - today).days,
    )


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    is_trading_day: bool | None  # None: past the known range
    name: str = ""  # the override's name (e.g. 2027年元旦)
    override_kind: str = ""

    @property
    def weekday(self) -> int:
        return self.date.weekday()


def calendar_days(start: dt.date, end: dt.date, *, strict: bool = True) -> list[CalendarDay]:
    """Every date from ``start`` to ``end`` with whether it trades and any override's name.

    With ``strict`` a date outside the known range raises ``CalendarRangeError``; without, it is
    returned with ``is_trading_day=None`` (for screens that show how far the calendar reaches).
    """
    cal = trading_calendar()
    names = {
        o.date: o for o in CalendarOverride.objects.filter(date__gte=start, date__lte=end).order_by("date")
    }
    out: list[CalendarDay] = []
    day = start
    while day <= end:
        try:
            trading: bool | None = cal.is_working_day(day)
        except CalendarRangeError:
            if strict:
                raise
            trading = None
        override = names.get(day)
        out.append(
            CalendarDay(
                date=day,
                is_trading_day=trading,
                name=override.name if override else "",
                override_kind=override.kind if override else "",
            )
        )
        day += dt.timedelta(days=1)
    return out


# --- service standards ---------------------------------------------------------------------------------


def standard_for(branch: Branch, date: dt.date) -> ServiceStandard:
    """The version of ``branch``'s service standard in force on ``date``; an unsaved instance with the
    defaults (``pk`` None) when the branch has none yet."""
    found = (
        ServiceStandard.objects.filter(branch=branch, effective_from__lte=date)
        .order_by("-effective_from")
        .first()
    )
    return found or ServiceStandard(branch=branch)
