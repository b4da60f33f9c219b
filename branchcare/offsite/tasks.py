"""Background jobs of the off-site service (Huey autodiscovers this module)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from branchcare.org.models import Branch

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def escalate_inquiries() -> dict[str, int]:
    """Every five minutes: warn at 80 % of the time, escalate breached inquiries (each once)."""
    from .services_inquiries import inquiries_escalate

    return inquiries_escalate()


# 02:00 Asia/Shanghai on the 1st of each month (18:00 UTC the day before would need a day shift; the
# job is idempotent, so 18:00 UTC on the 1st is just as good).
SAMPLE_HOUR = "18" if settings.HUEY.get("utc", True) else "2"


@db_periodic_task(crontab(day="1", hour=SAMPLE_HOUR, minute="0"))
def annual_sample_top_up() -> int:
    """Monthly: top up each branch's annual return-visit sample (idempotent: only what is missing)."""
    from .services_visits import annual_sample

    made = 0
    for branch in Branch.objects.order_by("pk"):
        made += len(annual_sample(branch=branch))
    logger.info("annual return-visit sample: %d tasks generated", made)
    return made


@db_task()
def annual_sample_task(branch_id: int, year: int) -> int:
    """One branch's annual sample on demand (by primary key; a retry does no harm)."""
    from .services_visits import annual_sample

    return len(annual_sample(branch=Branch.objects.get(pk=branch_id), year=year))
