"""SLA arithmetic of inquiries and complaints: pure functions, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from branchcare.core.sla import SHANGHAI, TRADING_SESSIONS, always_open, calendar_from_days
from branchcare.offsite import sla

# Mon 2026-11-23 … Fri 2026-11-27 and Mon 2026-11-30 … Fri 2026-12-04 are working days.
DAYS = [
    dt.date(2026, 11, 23) + dt.timedelta(days=i)
    for i in range(14)
    if (dt.date(2026, 11, 23) + dt.timedelta(days=i)).weekday() < 5
]
CAL = calendar_from_days(
    DAYS, windows=TRADING_SESSIONS, known_from=dt.date(2026, 11, 1), known_until=dt.date(2026, 12, 31)
)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def test_first_response_skips_the_lunch_break():
    d = sla.inquiry_deadlines(CAL, at(25, 10), first_response_hours=2, resolution_hours=16)
    assert d.first_response_due == at(25, 13, 30)


def test_resolution_skips_evenings_and_the_weekend():
    # Fri 14:00 + 4 service hours: 1 h on Friday, 2 h Monday morning, 1 h Monday afternoon
    d = sla.inquiry_deadlines(CAL, at(27, 14), first_response_hours=1, resolution_hours=4)
    assert d.resolution_due == at(30, 14)
    assert d.first_response_due == at(27, 15)
    # the warning comes after 80 % (3 h 12 min): Monday 13:12
    assert d.warn_at == at(30, 13, 12)
    assert d.regulatory_due is None


def test_received_outside_service_hours_starts_next_morning():
    d = sla.inquiry_deadlines(CAL, at(28, 20), first_response_hours=Decimal("0.5"), resolution_hours=1)
    assert d.first_response_due == at(30, 10)
    assert d.resolution_due == at(30, 10, 30)


def test_complaint_regulatory_deadline_is_calendar_days_and_caps_resolution():
    d = sla.inquiry_deadlines(
        always_open(), at(25, 10), first_response_hours=2, resolution_hours=24 * 30, regulatory_days=15
    )
    assert d.regulatory_due == at(10, 10, month=12)
    assert d.resolution_due == d.regulatory_due  # never later than the regulator's deadline


def test_breach_and_status():
    d = sla.inquiry_deadlines(CAL, at(25, 10), first_response_hours=2, resolution_hours=4)
    kw = {
        "first_response_due": d.first_response_due,
        "warn_at": d.warn_at,
        "resolution_due": d.resolution_due,
    }
    assert (
        sla.breach(
            at(25, 13, 29),
            first_responded_at=None,
            first_response_due=d.first_response_due,
            resolution_due=d.resolution_due,
        )
        == ""
    )
    assert (
        sla.breach(
            at(25, 13, 30),
            first_responded_at=None,
            first_response_due=d.first_response_due,
            resolution_due=d.resolution_due,
        )
        == "first_response"
    )
    responded = at(25, 10, 5)
    assert (
        sla.breach(
            d.resolution_due,
            first_responded_at=responded,
            first_response_due=d.first_response_due,
            resolution_due=d.resolution_due,
        )
        == "resolution"
    )
    assert (
        sla.sla_status(at(25, 10, 30), running=True, first_responded_at=responded, resolved_at=None, **kw)
        is sla.SlaStatus.ON_TIME
    )
    assert (
        sla.sla_status(d.warn_at, running=True, first_responded_at=responded, resolved_at=None, **kw)
        is sla.SlaStatus.WARNING
    )
    assert (
        sla.sla_status(d.resolution_due, running=True, first_responded_at=responded, resolved_at=None, **kw)
        is sla.SlaStatus.OVERDUE
    )
    # stopped: late resolution stays overdue, an on-time one is on time
    assert (
        sla.sla_status(
            at(30, 10),
            running=False,
            first_responded_at=responded,
            resolved_at=d.resolution_due + dt.timedelta(minutes=1),
            **kw,
        )
        is sla.SlaStatus.OVERDUE
    )
    assert (
        sla.sla_status(at(30, 10), running=False, first_responded_at=responded, resolved_at=at(25, 11), **kw)
        is sla.SlaStatus.ON_TIME
    )
