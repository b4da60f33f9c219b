"""The 24×7 desk's deadline and escalation arithmetic: pure functions with fixed times."""

from __future__ import annotations

import datetime as dt

import pytest

from branchcare.premium import desk_sla
from branchcare.premium.desk_sla import SlaStatus

SH = dt.timezone(dt.timedelta(hours=8))
T = desk_sla.Targets(
    first_response=dt.timedelta(minutes=30),
    resolution=dt.timedelta(hours=24),
    director_after=dt.timedelta(hours=1),
)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_deadlines_run_through_nights_weekends_and_holidays():
    # Saturday 23:45: 30 minutes later is Sunday 00:15; 24 hours later Sunday 23:45.
    first, resolution = desk_sla.deadlines(at(28, 23, 45), T)
    assert first == at(29, 0, 15)
    assert resolution == at(29, 23, 45)
    # New Year's Day counts like any other day.
    first, _ = desk_sla.deadlines(dt.datetime(2026, 12, 31, 23, 50, tzinfo=SH), T)
    assert first == dt.datetime(2027, 1, 1, 0, 20, tzinfo=SH)


@pytest.mark.parametrize(
    ("minutes_after", "responded_after", "resolved_after", "expected"),
    [
        (29, None, None, 0),  # within the first-response target
        (30, None, None, 1),  # breached: backup broker
        (89, None, None, 1),
        (90, None, None, 2),  # an hour after the breach: director
        (600, 10, None, 0),  # answered in time, resolution not yet due
        (24 * 60, 10, None, 1),  # resolution breached
        (25 * 60, 10, None, 2),
        (26 * 60, 10, 20 * 60, 0),  # resolved in time: nothing pending
        (26 * 60, 45, 20 * 60, 0),  # late first response, but answered since: nothing pending now
    ],
)
def test_escalation_level(minutes_after, responded_after, resolved_after, expected):
    t0 = at(25, 10)
    first, resolution = desk_sla.deadlines(t0, T)

    def when(m):
        return None if m is None else t0 + dt.timedelta(minutes=m)

    level = desk_sla.escalation_level(
        now=t0 + dt.timedelta(minutes=minutes_after),
        first_response_due=first,
        responded_at=when(responded_after),
        resolution_due=resolution,
        resolved_at=when(resolved_after),
        director_after=T.director_after,
    )
    assert level == expected


@pytest.mark.parametrize(
    ("now_min", "done_min", "expected"),
    [
        (10, None, SlaStatus.ON_TIME),
        (25, None, SlaStatus.WARNING),  # after 80 % of 30 minutes
        (30, None, SlaStatus.OVERDUE),
        (40, 20, SlaStatus.MET),
        (40, 31, SlaStatus.MISSED),
    ],
)
def test_target_status(now_min, done_min, expected):
    t0 = at(25, 10)
    due = t0 + dt.timedelta(minutes=30)
    done = None if done_min is None else t0 + dt.timedelta(minutes=done_min)
    assert (
        desk_sla.target_status(now=t0 + dt.timedelta(minutes=now_min), start=t0, due=due, done_at=done)
        == expected
    )


def test_minutes_between():
    assert desk_sla.minutes_between(at(25, 23, 30), at(26, 0, 15)) == 45
