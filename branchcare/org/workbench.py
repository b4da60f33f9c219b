"""The org app's card on the 工作台: a warning when the trading calendar is about to run out."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from branchcare.core.workbench import WorkbenchCard, register

from .calendar import calendar_status
from .capabilities import Cap


def calendar_warning_cards(user, *, today: dt.date | None = None) -> list[WorkbenchCard]:
    """A card for directors, administrators and supervisors when fewer than 30 days of the trading
    calendar remain known (plans and deadlines past that date are refused until it is extended)."""
    if not (user.has_cap(Cap.ORG_CONFIGURE) or user.has_cap(Cap.SUPERVISE)):
        return []
    status = calendar_status(today)
    if not status.warn:
        return []
    if status.expired:
        note = _("交易日历只录入到 %(d)s，之后的计划和期限已无法计算；请系统管理员立即录入新一年的休市安排。")
    else:
        note = _("交易日历只录入到 %(d)s；请系统管理员按交易所公布的安排录入新一年的节假日并声明覆盖范围。")
    return [
        WorkbenchCard(
            title=_("交易日历即将用完") if not status.expired else _("交易日历已用完"),
            value=max(status.days_remaining, 0),
            unit=_("天"),
            url=reverse("standards:calendar") if user.has_cap(Cap.ORG_CONFIGURE) else "",
            icon="bi-calendar-x",
            tone="danger",
            note=note % {"d": status.known_until},
            order=1,
        )
    ]


register("org.calendar", calendar_warning_cards)
