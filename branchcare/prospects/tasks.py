"""Background jobs of prospect development (Huey autodiscovers this module)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="15"))
def reclaim_untouched_prospects() -> int:
    """Hourly: prospects untouched for the branch's reclaim days return to the pool; the former owners
    are told (idempotent)."""
    from .services import pool_reclaim

    return pool_reclaim()


@db_periodic_task(crontab(minute="*/30"))
def sync_prospect_stages() -> int:
    """Every half hour: converted prospects become "funded" / "active" from their client's data."""
    from .services import stages_sync

    return stages_sync()
