"""Background jobs of the visit and patrol plans (Huey autodiscovers this module)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from branchcare.core.errors import DomainError
from branchcare.core.notify import notify
from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import is_trading_day
from branchcare.org.models import Branch, User

from .services_plans import plan_generate

logger = logging.getLogger(__name__)


def _admins() -> list[User]:
    return list(User.objects.filter(is_active=True, roles__code="admin").distinct())


def generate_daily_plans(date: dt.date | None = None) -> int:
    """Every branch's visit and patrol plans for ``date`` (default today). Quietly nothing on a non-trading
    day; past the calendar's known range it logs and notifies the administrators instead of guessing.
    Idempotent: plans that exist are left alone. Returns how many plans were made."""
    date = date or timezone.localdate()
    try:
        if not is_trading_day(date):
            logger.info("visit plans: %s is not a trading day; nothing generated", date)
            return 0
    except CalendarRangeError as exc:
        logger.error("visit plans for %s not generated: %s", date, exc)
        notify(
            recipients=_admins(),
            title=_("交易日历已用完，今日拜访计划未生成"),
            body=_(
                "交易日历只录入到 %(until)s，%(d)s 的拜访与巡视计划没有生成。请在“交易日历”中录入新一年的节假日安排。"
            )
            % {"until": exc.known_until, "d": date},
            url="/org/standards/calendar/",
            kind="warning",
        )
        return 0
    made = 0
    for branch_id in Branch.objects.order_by("pk").values_list("pk", flat=True):
        branch = Branch.objects.get(pk=branch_id)
        try:
            made += len(plan_generate(branch=branch, date=date))
        except DomainError as exc:  # one branch's problem does not stop the others
            logger.error("visit plans for branch %s on %s not generated: %s", branch.code, date, exc)
    logger.info("visit plans for %s: %d generated", date, made)
    return made


# 08:30 Asia/Shanghai. Huey evaluates crontabs in UTC unless its ``utc`` setting is off; China has no
# daylight saving, so 08:30 in Shanghai is always 00:30 UTC.
PLAN_HOUR = "0" if settings.HUEY.get("utc", True) else "8"


@db_periodic_task(crontab(hour=PLAN_HOUR, minute="30"))
def daily_visit_plans() -> int:
    """08:30 Asia/Shanghai every day: today's plans on trading days (quietly nothing on other days)."""
    return generate_daily_plans()


@db_task()
def generate_plans_task(branch_id: int, date_iso: str) -> int:
    """One branch's plans for a date, in the background (by primary key; a retry does no harm)."""
    branch = Branch.objects.get(pk=branch_id)
    return len(plan_generate(branch=branch, date=dt.date.fromisoformat(date_iso)))
