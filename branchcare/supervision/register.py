"""Workbench cards of supervision: the director sees today's overdue work and SLA breaches of their
branch (bounded queries: one grouped count per source)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import workbench
from branchcare.org.capabilities import Cap


def supervision_cards(user: Any) -> list[workbench.WorkbenchCard]:
    if not user.has_cap(Cap.SUPERVISE) or not user.branch_id:
        return []
    from . import live

    now = timezone.now()
    counts = live.live_counts([user.branch_id], now)
    overdue = sum(p.overdue for p in counts.values())
    people = sum(1 for key, p in counts.items() if key[1] and p.overdue)
    return [
        workbench.WorkbenchCard(
            title=_("督导：今日逾期事项"),
            value=overdue,
            unit=_("项"),
            url=reverse("supervision:dashboard"),
            icon="bi-speedometer",
            tone="danger" if overdue else "success",
            note=_("涉及 %(n)d 人") % {"n": people} if overdue else _("没有逾期事项"),
            order=6,
        )
    ]


workbench.register("supervision.overview", supervision_cards)
