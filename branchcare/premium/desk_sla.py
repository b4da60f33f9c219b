"""The 24×7 desk's deadlines and escalation: pure functions over ``core.sla.always_open()``, no database.

A request received at ``t`` must get a first response within the branch's ``first_response_minutes``
and be resolved within ``resolution_hours`` — every instant counts, nights and holidays included.
When a target is missed the request escalates: level 1 tells the backup broker at once; level 2 tells
the director once ``director_after`` has passed since the (earliest) breach and it is still unhandled.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.utils.translation import gettext as _

from branchcare.core.sla import add_working_time, always_open, working_time_between

CLOCK = always_open()


@dataclass(frozen=True)
class Targets:
    first_response: dt.timedelta
    resolution: dt.timedelta
    director_after: dt.timedelta


def deadlines(received_at: dt.datetime, targets: Targets) -> tuple[dt.datetime, dt.datetime]:
    """``(first_response_due, resolution_due)`` for a request received at ``received_at``."""
    return (
        add_working_time(CLOCK, received_at, targets.first_response),
        add_working_time(CLOCK, received_at, targets.resolution),
    )


def escalation_level(
    *,
    now: dt.datetime,
    first_response_due: dt.datetime,
    responded_at: dt.datetime | None,
    resolution_due: dt.datetime,
    resolved_at: dt.datetime | None,
    director_after: dt.timedelta,
) -> int:
    """The escalation level an open request should have at ``now``: 0 within targets, 1 (backup broker)
    from the first breach of a target that is still unmet, 2 (director) ``director_after`` later."""
    pending = []
    if responded_at is None and now >= first_response_due:
        pending.append(first_response_due)
    if resolved_at is None and now >= resolution_due:
        pending.append(resolution_due)
    if not pending:
        return 0
    return 2 if now >= min(pending) + director_after else 1


class SlaStatus(enum.Enum):
    ON_TIME = "on_time"
    WARNING = "warning"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return {
            "on_time": _("按时"),
            "warning": _("即将到期"),
            "overdue": _("逾期"),
            "met": _("达标"),
            "missed": _("超时"),
        }[self.value]

    @property
    def icon(self) -> str:
        return {
            "on_time": "bi-check-circle",
            "warning": "bi-hourglass-split",
            "overdue": "bi-exclamation-octagon",
            "met": "bi-check2-all",
            "missed": "bi-x-octagon",
        }[self.value]

    @property
    def tone(self) -> str:
        return {
            "on_time": "success",
            "warning": "warning",
            "overdue": "danger",
            "met": "success",
            "missed": "danger",
        }[self.value]


def target_status(
    *, now: dt.datetime, start: dt.datetime, due: dt.datetime, done_at: dt.datetime | None, warn: float = 0.8
) -> SlaStatus:
    """One target's status: met / missed once done; overdue, warning (after ``warn`` of the allowed
    time) or on time while it runs."""
    if done_at is not None:
        return SlaStatus.MET if done_at <= due else SlaStatus.MISSED
    if now >= due:
        return SlaStatus.OVERDUE
    if now >= add_working_time(CLOCK, start, (due - start) * warn):
        return SlaStatus.WARNING
    return SlaStatus.ON_TIME


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed 24×7 minutes (for the dashboard's response and resolution times)."""
    return working_time_between(CLOCK, start, end).total_seconds() / 60
