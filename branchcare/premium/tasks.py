"""Background jobs of the premium desk (Huey autodiscovers this module): the escalation check every
five minutes, around the clock, and the brokers' briefings each trading-day morning."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import is_trading_day

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def escalate_premium_requests() -> int:
    """Escalate open premium requests that missed their 24×7 targets (idempotent)."""
    from .services import requests_escalate

    return requests_escalate()


# 07:30 Asia/Shanghai (no daylight saving: 23:30 UTC the evening before).
BRIEFING_HOUR = "23" if settings.HUEY.get("utc", True) else "7"


def generate_morning_briefings() -> int:
    """Today's briefing for every broker with premium clients, on trading days only."""
    from .services_briefing import briefings_generate_all

    today = timezone.localdate()
    try:
        if not is_trading_day(today):
            return 0
    except CalendarRangeError as exc:
        logger.error("premium briefings for %s not generated: %s", today, exc)
        return 0
    return briefings_generate_all(date=today)


@db_periodic_task(crontab(hour=BRIEFING_HOUR, minute="30"))
def morning_briefings() -> int:
    return generate_morning_briefings()
