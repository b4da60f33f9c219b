"""The client app's own timeline events: changes to the client's record (from the audit log)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from branchcare.core import timeline
from branchcare.core.models import AuditLog

ACTION_TITLES = {
    "client.create": (_("建立客户档案"), "bi-person-plus"),
    "client.update": (_("修改客户资料"), "bi-pencil-square"),
    "client.reassign": (_("划转客户经理"), "bi-arrow-left-right"),
    "client.import": (_("导入更新客户资料"), "bi-upload"),
    "holdings.replace": (_("更新持仓"), "bi-briefcase"),
    "holdings.import": (_("导入持仓"), "bi-upload"),
}


def client_record_events(*, client, viewer, start, end):
    rows = AuditLog.objects.filter(
        object_type="clients.client", object_id=str(client.pk), created_at__range=(start, end)
    ).only("created_at", "action", "actor_username", "changes")[:200]
    for row in rows:
        title, icon = ACTION_TITLES.get(row.action, (row.action, "bi-dot"))
        fields = ", ".join(sorted(row.changes)) if isinstance(row.changes, dict) else ""
        yield timeline.TimelineEvent(
            at=row.created_at,
            kind="record",
            title=str(title),
            detail=fields,
            actor=row.actor_username,
            icon=icon,
        )


timeline.register("clients.record", client_record_events)
