"""Background jobs of recommendation performance (Huey autodiscovers this module)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from branchcare.org.models import User

from .services import outcomes_refresh

logger = logging.getLogger(__name__)


@db_task()
def refresh_outcomes_task(changed: dict[str, str], actor_id: int | None = None) -> int:
    """After a price import: recompute the outcomes touched by the closes written (``changed`` maps a
    security id to the earliest date written, both as text so the payload is plain JSON). Idempotent."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    result = outcomes_refresh(
        changed={int(k): dt.date.fromisoformat(v) for k, v in changed.items()}, actor=actor
    )
    logger.info("performance refresh after import: %d of %d computed", result.computed, result.measured)
    return result.computed


@db_task()
def refresh_items_task(item_ids: list[int]) -> int:
    """Compute the outcome of newly published recommendations (pending until their prices arrive)."""
    return outcomes_refresh(item_ids=item_ids).computed


# 20:30 Asia/Shanghai (after the day's closes are usually imported) = 12:30 UTC; China has no DST.
NIGHTLY_HOUR = "12" if settings.HUEY.get("utc", True) else "20"


@db_periodic_task(crontab(hour=NIGHTLY_HOUR, minute="30"))
def nightly_outcomes_refresh() -> int:
    """Every evening: the incremental computation (only outcomes that are incomplete and got new closes,
    or whose recommendation changed)."""
    result = outcomes_refresh()
    logger.info("nightly performance refresh: %d of %d computed", result.computed, result.measured)
    return result.computed
