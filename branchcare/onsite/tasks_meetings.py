"""Background job of the exchange meeting: each Saturday morning, plan every branch's meeting of the
coming week (with its invitation list) where none exists yet, and tell the managers of the invited
clients. Imported by ``register_meetings`` so that the Huey consumer knows it."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from branchcare.core.errors import DomainError
from branchcare.org.models import Branch

from .services_meetings import meeting_ensure_upcoming

logger = logging.getLogger(__name__)


def schedule_upcoming_meetings() -> int:
    """Create the coming week's meeting in every branch that has none; returns how many were created.
    Idempotent: a second run finds the meetings and creates nothing. One branch's failure (e.g. no
    trading day in reach) does not stop the others."""
    created = 0
    for branch_id in Branch.objects.order_by("code").values_list("pk", flat=True):
        branch = Branch.objects.get(pk=branch_id)
        try:
            if meeting_ensure_upcoming(branch=branch) is not None:
                created += 1
        except DomainError as exc:
            logger.warning("exchange meeting for branch %s not scheduled: %s", branch.code, exc)
    return created


@db_periodic_task(crontab(day_of_week="6", hour="8", minute="5"))
def weekly_exchange_meetings() -> int:
    """Saturday 08:05: plan next week's exchange meetings (see ``schedule_upcoming_meetings``)."""
    return schedule_upcoming_meetings()
