"""Background jobs of the consultation pipeline. Imported by ``register_consultations`` (Huey only
autodiscovers ``tasks`` modules)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/5"))
def mark_overdue_consultations() -> int:
    """Every five minutes: mark running orders past their deadline, attribute the lateness to whoever
    held the order and notify them and the director once (idempotent: marked orders are skipped)."""
    from .services_consultations import orders_mark_overdue

    return orders_mark_overdue()
