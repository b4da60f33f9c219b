"""SLA arithmetic as pure functions: lunch breaks, evenings, weekends, holidays, range limits."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from branchcare.core.sla import (
    OFFICE_HOURS,
    SHANGHAI,
    CalendarRangeError,
    add_working_time,
    always_open,
    calendar_from_days,
    deadline_marks,
    working_time_between,
)

# Trading days around National Day 2026: Sep 28–30 trade, Oct 1–7 holiday (and the weekend), Oct 8 trades.
DAYS = [
    dt.date(2026, 9, 28),
    dt.date(2026, 9, 29),
    dt.date(2026, 9, 30),
    dt.date(2026, 10, 8),
    dt.date(2026, 10, 9),
    dt.date(2026, 10, 12),
]
CAL = calendar_from_days(DAYS, known_from=dt.date(2026, 9, 1), known_until=dt.date(2026, 10, 31))
H = dt.timedelta(hours=1)


def at(d, hh, mm=0):
    return dt.datetime(2026, d[0], d[1], hh, mm, tzinfo=SHANGHAI)


def test_lunch_break_is_skipped():
    assert add_working_time(CAL, at((9, 28), 11, 0), H) == at((9, 28), 13, 30)


def test_before_open_starts_at_open():
    assert add_working_time(CAL, at((9, 28), 8, 0), H) == at((9, 28), 10, 30)


def test_evening_rolls_to_next_trading_day():
    assert add_working_time(CAL, at((9, 29), 14, 30), 2 * H) == at((9, 30), 11, 0)


def test_holiday_week_is_skipped():
    assert add_working_time(CAL, at((9, 30), 14, 0), 2 * H) == at((10, 8), 10, 30)


def test_weekend_is_skipped():
    assert add_working_time(CAL, at((10, 9), 14, 0), 2 * H) == at((10, 12), 10, 30)


def test_elapsed_counts_only_sessions():
    assert working_time_between(CAL, at((9, 30), 14, 0), at((10, 8), 10, 30)) == 2 * H
    assert working_time_between(CAL, at((9, 28), 12, 0), at((9, 28), 12, 59)) == dt.timedelta(0)
    assert working_time_between(CAL, at((9, 28), 15, 0), at((9, 28), 9, 0)) == dt.timedelta(0)


def test_deadline_marks_warn_before_due():
    warn, due = deadline_marks(CAL, at((9, 28), 9, 30), 4 * H, warn_fraction=0.75)
    assert (warn, due) == (at((9, 28), 14, 0), at((9, 28), 15, 0))


def test_beyond_known_range_refuses_instead_of_guessing():
    with pytest.raises(CalendarRangeError) as exc:
        add_working_time(CAL, at((10, 12), 14, 0), 10 * H)
    assert "节假日" in str(exc.value)


def test_office_hours_calendar():
    cal = calendar_from_days(
        DAYS, windows=OFFICE_HOURS, known_from=dt.date(2026, 9, 1), known_until=dt.date(2026, 10, 31)
    )
    assert add_working_time(cal, at((9, 28), 11, 0), 2 * H) == at((9, 28), 14, 0)


def test_always_open_is_plain_clock_time():
    start = at((10, 3), 23, 0)
    assert add_working_time(always_open(), start, 3 * H) == start + 3 * H
    assert working_time_between(always_open(), start, start + 30 * H) == 30 * H


@given(
    start_min=st.integers(min_value=0, max_value=14 * 24 * 60),
    minutes=st.integers(min_value=0, max_value=20 * 60),
)
def test_elapsed_is_inverse_of_add(start_min, minutes):
    start = dt.datetime(2026, 9, 27, tzinfo=SHANGHAI) + dt.timedelta(minutes=start_min)
    duration = dt.timedelta(minutes=minutes)
    try:
        end = add_working_time(CAL, start, duration)
    except CalendarRangeError:
        return
    assert working_time_between(CAL, start, end) == duration
