"""SLA arithmetic of inquiries and complaints. Pure functions over a ``core.sla.ServiceCalendar``.

* first response and resolution are *service hours* of the branch (trading days × service windows);
* the warning instant is after 80 % of the resolution time;
* a complaint also has a regulatory answer deadline in *calendar* days (e.g. 15), counted from receipt;
* status: on time / warning / overdue — overdue once the first response or the resolution is late.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from branchcare.core.sla import ServiceCalendar, add_working_time, deadline_marks

WARN_FRACTION = 0.8


def hours(value: Decimal | float | int) -> dt.timedelta:
    """A number of hours (decimal) as a timedelta, to the minute."""
    return dt.timedelta(minutes=int(Decimal(str(value)) * 60))


@dataclass(frozen=True)
class InquiryDeadlines:
    first_response_due: dt.datetime
    warn_at: dt.datetime
    resolution_due: dt.datetime
    regulatory_due: dt.datetime | None


def inquiry_deadlines(
    cal: ServiceCalendar,
    start: dt.datetime,
    *,
    first_response_hours: Decimal | float,
    resolution_hours: Decimal | float,
    regulatory_days: int | None = None,
) -> InquiryDeadlines:
    """The deadlines of an inquiry received at ``start``. ``regulatory_days`` only for complaints; the
    resolution deadline never falls after the regulatory one."""
    first = add_working_time(cal, start, hours(first_response_hours))
    warn, due = deadline_marks(cal, start, hours(resolution_hours), warn_fraction=WARN_FRACTION)
    regulatory = start + dt.timedelta(days=regulatory_days) if regulatory_days else None
    if regulatory is not None and due > regulatory:
        due = regulatory
        warn = min(warn, regulatory)
    return InquiryDeadlines(first, warn, due, regulatory)


class SlaStatus(enum.Enum):
    NONE = "none"
    ON_TIME = "on_time"
    WARNING = "warning"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"none": _("未计时"), "on_time": _("按时"), "warning": _("即将到期"), "overdue": _("逾期")}[
            self.value
        ]

    @property
    def icon(self) -> str:
        return {
            "none": "bi-dash-circle",
            "on_time": "bi-check-circle",
            "warning": "bi-hourglass-split",
            "overdue": "bi-exclamation-octagon",
        }[self.value]

    @property
    def tone(self) -> str:
        return {"none": "secondary", "on_time": "success", "warning": "warning", "overdue": "danger"}[
            self.value
        ]


def breach(
    now: dt.datetime,
    *,
    first_response_due: dt.datetime | None,
    first_responded_at: dt.datetime | None,
    resolution_due: dt.datetime | None,
    resolved_at: dt.datetime | None = None,
) -> str:
    """Which deadline is breached at ``now``: "first_response", "resolution" or "" (none)."""
    if first_response_due and first_responded_at is None and now >= first_response_due:
        return "first_response"
    if resolution_due and resolved_at is None and now >= resolution_due:
        return "resolution"
    return ""


def sla_status(
    now: dt.datetime,
    *,
    running: bool,
    first_response_due: dt.datetime | None,
    first_responded_at: dt.datetime | None,
    warn_at: dt.datetime | None,
    resolution_due: dt.datetime | None,
    resolved_at: dt.datetime | None,
    escalated: bool = False,
) -> SlaStatus:
    """On time / warning / overdue. While the clock runs it compares ``now`` with the deadlines; once
    stopped the inquiry stays overdue if it was resolved late or was escalated."""
    if resolution_due is None:
        return SlaStatus.NONE
    if running:
        if breach(
            now,
            first_response_due=first_response_due,
            first_responded_at=first_responded_at,
            resolution_due=resolution_due,
        ):
            return SlaStatus.OVERDUE
        if warn_at and now >= warn_at:
            return SlaStatus.WARNING
        return SlaStatus.ON_TIME
    if escalated or (resolved_at and resolved_at > resolution_due):
        return SlaStatus.OVERDUE
    return SlaStatus.ON_TIME
