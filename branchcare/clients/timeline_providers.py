"""The client app's own timeline events: changes to the client's record (from the audit log)."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from branchcare.core import timeline
from branchcare.core.models import AuditLog

from .models import Client

ACTION_TITLES = {
    "client.create": (_("建立客户档案"), "bi-person-plus"),
    "client.update": (_("修改客户资料"), "bi-pencil-square"),
    "client.reassign": (_("划转客户经理"), "bi-arrow-left-right"),
    "client.import": (_("导入更新客户资料"), "bi-upload"),
    "holdings.replace": (_("更新持仓"), "bi-briefcase"),
    "holdings.import": (_("导入持仓"), "bi-upload"),
    "client.commission_rate": (_("调整佣金率"), "bi-percent"),
    "premium.client_enrolled": (_("签约高端服务"), "bi-gem"),
    "premium.client_downgraded": (_("高端服务降级"), "bi-gem"),
    "premium.client_exited": (_("退出高端服务"), "bi-gem"),
    "supervision.client_history_view": (_("查阅服务记录"), "bi-eye"),
    "supervision.client_history_export": (_("导出服务记录"), "bi-download"),
}
EXTRA_LABELS = {"holdings": _("持仓"), "as_of": _("日期"), "source": _("来源")}


def _label(field_name: str) -> str:
    try:
        return str(getattr(Client._meta.get_field(field_name), "verbose_name", field_name))
    except FieldDoesNotExist:
        return str(EXTRA_LABELS.get(field_name, field_name))


def client_record_events(*, client, viewer, start, end):
    rows = (
        AuditLog.objects.filter(
            object_type="clients.client", object_id=str(client.pk), created_at__range=(start, end)
        )
        .select_related("actor")
        .only("created_at", "action", "actor_username", "changes", "actor__name", "actor__username")[:200]
    )
    for row in rows:
        title, icon = ACTION_TITLES.get(row.action, (row.action, "bi-dot"))
        fields = "、".join(sorted(_label(k) for k in row.changes)) if isinstance(row.changes, dict) else ""
        yield timeline.TimelineEvent(
            at=row.created_at,
            kind="record",
            title=str(title),
            detail=str(_("变更：%(f)s") % {"f": fields}) if fields else "",
            actor=str(row.actor) if row.actor else row.actor_username,
            icon=icon,
        )


timeline.register("clients.record", client_record_events)
