"""Premium "today" counters: desk requests due today, resolved, and past the resolution deadline (SLA)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .live import Counter, LiveSource, register
from .measures import TZ, day_end, day_start
from .measures_premium import OPEN_REQUEST, PremiumRequest, describe_request


def _due_today(now: dt.datetime) -> Q:
    today = now.astimezone(TZ).date()
    return Q(resolution_due__gte=day_start(today), resolution_due__lt=day_end(today))


register(
    LiveSource(
        key="premium_requests",
        label=_("高端请求"),
        model=PremiumRequest,
        employee="broker_id",
        counters=(
            Counter("premium_due", _("今日到期高端请求"), "due", _due_today),
            Counter(
                "premium_done",
                _("今日到期且已办结"),
                "done",
                lambda now: _due_today(now) & Q(resolved_at__isnull=False),
            ),
            Counter(
                "premium_overdue",
                _("超时未办结高端请求"),
                "overdue",
                lambda now: Q(state__in=OPEN_REQUEST, resolution_due__lt=now),
            ),
        ),  # fmt: skip
        describe=describe_request,
        due_field="resolution_due",
        select_related=("client", "broker"),
        sla=True,
    )
)
