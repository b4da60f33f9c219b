"""Background jobs of the research platform (Huey autodiscovers this module): running a push to a
large audience, and the daily expiry of published research past its validity."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .models import ResearchPush

logger = logging.getLogger(__name__)


@db_task()
def run_push(push_id: int) -> None:
    """Execute a queued push (idempotent: a push that is not queued is left alone)."""
    from .services import push_execute

    try:
        push_execute(push_id)
    except Exception:
        logger.exception("research push %s failed", push_id)
        ResearchPush.objects.filter(pk=push_id, status=ResearchPush.Status.RUNNING).update(
            status=ResearchPush.Status.FAILED, finished_at=timezone.now()
        )
        raise


@db_periodic_task(crontab(hour="0", minute="20"))
def expire_research() -> int:
    """Every night: published items past ``expires_on`` become *expired*."""
    from .services import expire_due

    n = expire_due()
    logger.info("research: %s items expired", n)
    return n
