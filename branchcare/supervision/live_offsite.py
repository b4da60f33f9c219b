"""Off-site "today" counters: inquiries and complaints (SLA: overdue = unresolved past the resolution
deadline) and return visits, per assignee."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .live import Counter, LiveSource, register
from .measures import TZ, day_end, day_start
from .measures_offsite import OPEN_INQUIRY, describe_inquiry, describe_return_visit

Inquiry = apps.get_model("offsite", "Inquiry")
ReturnVisit = apps.get_model("offsite", "ReturnVisit")


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(TZ).date()


def _due_today(now: dt.datetime) -> Q:
    return Q(resolution_due__gte=day_start(_today(now)), resolution_due__lt=day_end(_today(now)))


register(
    LiveSource(
        key="inquiries",
        label=_("咨询投诉"),
        model=Inquiry,
        employee="assignee_id",
        prefilter=lambda now: ~Q(state=Inquiry.State.CANCELLED),
        counters=(
            Counter("inquiries_due", _("今日到期咨询投诉"), "due", _due_today),
            Counter(
                "inquiries_done",
                _("今日到期且已解决"),
                "done",
                lambda now: _due_today(now) & Q(resolved_at__isnull=False),
            ),
            Counter(
                "inquiries_overdue",
                _("超时未办结咨询投诉"),
                "overdue",
                lambda now: Q(state__in=OPEN_INQUIRY, resolution_due__lt=now),
            ),
        ),  # fmt: skip
        describe=describe_inquiry,
        due_field="resolution_due",
        select_related=("client", "assignee"),
        sla=True,
    )
)

register(
    LiveSource(
        key="return_visits",
        label=_("回访"),
        model=ReturnVisit,
        employee="assignee_id",
        prefilter=lambda now: ~Q(state=ReturnVisit.State.CANCELLED),
        counters=(
            Counter("return_visits_due", _("今日到期回访"), "due", lambda now: Q(due_on=_today(now))),
            Counter(
                "return_visits_done",
                _("今日到期且已完成"),
                "done",
                lambda now: Q(due_on=_today(now)) & ~Q(state=ReturnVisit.State.OPEN),
            ),
            Counter(
                "return_visits_overdue",
                _("逾期回访"),
                "overdue",
                lambda now: Q(state=ReturnVisit.State.OPEN, due_on__lt=_today(now)),
            ),
        ),  # fmt: skip
        describe=describe_return_visit,
        due_field="due_on",
        select_related=("client", "assignee", "rule"),
    )
)
