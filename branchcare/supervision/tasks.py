"""Background jobs of supervision (Huey autodiscovers this module): the nightly rollup of yesterday for
every branch, an on-demand recompute of a date range, and the morning alerts and digest."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from branchcare.org.models import Branch

from .alerts import send_daily_alerts
from .services import rollup_recompute

logger = logging.getLogger(__name__)

UTC = settings.HUEY.get("utc", True)
# 01:30 and 08:45 Asia/Shanghai (China has no daylight saving: 17:30 and 00:45 UTC).
ROLLUP_HOUR, ROLLUP_MINUTE = ("17", "30") if UTC else ("1", "30")
ALERT_HOUR, ALERT_MINUTE = ("0", "45") if UTC else ("8", "45")


def rollup_all(day: dt.date | None = None, *, days: int = 1) -> int:
    """Every branch's rollups for the ``days`` days ending ``day`` (default yesterday). Idempotent. A
    branch that fails is logged and the others still run."""
    day = day or timezone.localdate() - dt.timedelta(days=1)
    first = day - dt.timedelta(days=days - 1)
    total = 0
    for branch in Branch.objects.order_by("code"):
        try:
            total += rollup_recompute(branch=branch, first=first, last=day)
        except Exception:  # one branch's problem must not stop the others
            logger.exception("supervision rollup of %s for %s..%s failed", branch.code, first, day)
    return total


@db_periodic_task(crontab(hour=ROLLUP_HOUR, minute=ROLLUP_MINUTE))
def nightly_rollup() -> int:
    """01:30 Asia/Shanghai: yesterday's measures, plus the day before (late entries and ratings)."""
    return rollup_all(days=2)


@db_task()
def recompute_task(branch_id: int, first_iso: str, last_iso: str) -> int:
    """One branch's rollups for a date range, in the background (by primary key; a retry does no harm)."""
    branch = Branch.objects.get(pk=branch_id)
    return rollup_recompute(
        branch=branch, first=dt.date.fromisoformat(first_iso), last=dt.date.fromisoformat(last_iso)
    )


@db_periodic_task(crontab(hour=ALERT_HOUR, minute=ALERT_MINUTE))
def daily_alerts() -> int:
    """08:45 Asia/Shanghai: overdue work, SLA breaches and quota shortfalls, to each person and their
    director. Idempotent per day."""
    return send_daily_alerts()
