"""Background jobs of the core app: running a large import, and purging old uploaded files."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import imports
from .models import ImportJob

logger = logging.getLogger(__name__)


@db_task()
def run_import_job(job_id: int) -> None:
    """Run the import job ``job_id`` (dispatched by its ``kind`` through the import registry).

    Idempotent: the job is claimed by moving it from *pending* to *running* in one UPDATE, so a retried or
    duplicated task finds nothing to claim and a finished job is never run again."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, message=_("正在读取文件"), updated_at=timezone.now()
    )
    if not claimed:
        logger.info("import job %s not pending; skipped", job_id)
        return
    job = ImportJob.objects.select_related("branch", "created_by").get(pk=job_id)
    imports.execute_job(job)


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_import_files() -> int:
    """Delete uploaded import files older than ``IMPORT_FILE_RETENTION_DAYS`` (default 7): they hold
    personal data and are only needed between a preview and its confirmation."""
    days = int(settings.BRANCHCARE.get("IMPORT_FILE_RETENTION_DAYS", 7))
    cutoff = time.time() - days * 86400
    removed = 0
    for path in imports.imports_dir().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            logger.warning("could not remove old import file %s", path.name)
    return removed


@db_task()
def deliver_notifications(ids: list[int]) -> None:
    """Send queued notification deliveries (by primary key; a retry of this task sends nothing twice)."""
    from .notify import deliver

    for pk in ids:
        deliver(pk)


@db_periodic_task(crontab(minute="*"))
def retry_notification_deliveries() -> int:
    """Every minute: retry failed deliveries whose back-off has passed."""
    from .notify import retry_due

    return retry_due()


def fail_stalled_import_jobs(*, now=None) -> int:
    """Mark running import jobs that showed no progress for IMPORT_STALL_SECONDS (default 30 min) as
    failed. Safe: a job's data and its *done* status commit in one transaction, so a job still marked
    running has written nothing."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=int(settings.BRANCHCARE.get("IMPORT_STALL_SECONDS", 1800)))
    return ImportJob.objects.filter(status=ImportJob.Status.RUNNING, updated_at__lt=cutoff).update(
        status=ImportJob.Status.FAILED,
        finished_at=now,
        message=_("导入中断（后台任务异常退出），未写入任何数据，请重新导入。"),
    )


@db_periodic_task(crontab(minute="*/10"))
def sweep_stalled_import_jobs() -> int:
    """Every 10 minutes: release import jobs whose worker died (they would show 处理中 forever)."""
    return fail_stalled_import_jobs()
