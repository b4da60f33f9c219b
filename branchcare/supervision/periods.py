"""Assessment periods (考核期间): week (Monday–Sunday), month, quarter. Pure date arithmetic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _

KINDS = {"week": _("周"), "month": _("月"), "quarter": _("季度")}


@dataclass(frozen=True)
class Period:
    kind: str
    first: dt.date
    last: dt.date  # both included

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}Q{(self.first.month - 1) // 3 + 1}"
        return f"{self.first:%Y-%m-%d}~{self.last:%m-%d}"

    def previous(self) -> Period:
        return period_for(self.kind, self.first - dt.timedelta(days=1))

    def next(self) -> Period:
        return period_for(self.kind, self.last + dt.timedelta(days=1))

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month_start(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_for(kind: str, day: dt.date) -> Period:
    """The period of ``kind`` containing ``day``; 404 for an unknown kind."""
    if kind == "week":
        first = day - dt.timedelta(days=day.weekday())
        return Period(kind, first, first + dt.timedelta(days=6))
    if kind == "month":
        first = month_start(day)
        return Period(kind, first, next_month_start(day) - dt.timedelta(days=1))
    if kind == "quarter":
        first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        last = next_month_start(next_month_start(next_month_start(first))) - dt.timedelta(days=1)
        return Period(kind, first, last)
    raise Http404


def recent_periods(kind: str, day: dt.date, n: int) -> list[Period]:
    """The ``n`` periods ending with the one containing ``day``, oldest first."""
    periods = [period_for(kind, day)]
    while len(periods) < n:
        periods.insert(0, periods[0].previous())
    return periods


# Dates outside this range are refused: period arithmetic (next/previous period, recent periods) near
# ``date.min`` / ``date.max`` would overflow.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)


def parse_date_strict(value: str | None) -> dt.date | None:
    """``value`` (YYYY-MM-DD) as a date within ``MIN_DATE``–``MAX_DATE``; ``None`` when it is not one."""
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if MIN_DATE <= day <= MAX_DATE else None


def parse_date(value: str | None, default: dt.date) -> dt.date:
    """``value`` as a date, or ``default`` when it is empty, malformed or out of range."""
    return (parse_date_strict(value) if value else None) or default


def pick(value: str | None, choices: Any, default: str) -> str:
    """``value`` when it is one of ``choices`` (a container of strings), else ``default``."""
    return value if value is not None and value in choices else default
