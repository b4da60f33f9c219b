"""On-site "today" counters for the director dashboard: planned visits and patrols, consultation orders
(due today, delivered today, overdue now — attributed to whoever holds the order now) and follow-ups."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, IntegerField, Q, When
from django.utils.translation import gettext_lazy as _

from branchcare.onsite.models import ConsultationOrder, FollowUp, PatrolPlanItem, VisitPlanItem

from .live import Counter, LiveSource, register
from .measures import TZ, day_end, day_start
from .measures_onsite import describe_followup, describe_order, describe_plan_item

S = ConsultationOrder.State
OPEN = [S.SUBMITTED, S.IN_ANALYSIS, S.ADVICE_READY, S.ACCEPTED]
CONSULTANT_HOLDS = [S.SUBMITTED, S.IN_ANALYSIS]


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(TZ).date()


def _due_today(now: dt.datetime) -> Q:
    return Q(due_at__gte=day_start(_today(now)), due_at__lt=day_end(_today(now)))


register(
    LiveSource(
        key="visits",
        label=_("拜访"),
        model=VisitPlanItem,
        employee="plan__manager_id",
        branch_field="plan__branch",
        prefilter=lambda now: Q(plan__date=_today(now)) & ~Q(status=VisitPlanItem.Status.SWAPPED),
        counters=(
            Counter("visits_due", _("今日计划拜访"), "due", lambda now: Q()),
            Counter("visits_done", _("已拜访"), "done", lambda now: Q(status=VisitPlanItem.Status.DONE)),
        ),
        describe=describe_plan_item,
        due_field="rank",
        select_related=("client", "plan__manager"),
    )
)


def _describe_patrol_item(item: PatrolPlanItem):
    from .measures import DrillRow

    return DrillRow(at=item.plan.date, title=str(item.room), detail=f"R{item.round_no}",
                    person=str(item.plan.manager), status=item.get_status_display())  # fmt: skip


register(
    LiveSource(
        key="patrols",
        label=_("巡视"),
        model=PatrolPlanItem,
        employee="plan__manager_id",
        branch_field="plan__branch",
        prefilter=lambda now: Q(plan__date=_today(now)),
        counters=(
            Counter("patrols_due", _("今日计划巡视"), "due", lambda now: Q()),
            Counter("patrols_done", _("已巡视"), "done", lambda now: Q(status=PatrolPlanItem.Status.DONE)),
        ),
        describe=_describe_patrol_item,
        due_field="round_no",
        select_related=("room", "plan__manager"),
    )
)

register(
    LiveSource(
        key="orders",
        label=_("咨询单"),
        model=ConsultationOrder,
        # whoever holds the order now: the consultant while it is analysed, else the manager
        employee=Case(
            When(state__in=CONSULTANT_HOLDS, then=F("consultant_id")),
            default=F("manager_id"),
            output_field=IntegerField(),
        ),
        prefilter=lambda now: ~Q(state=S.CANCELLED),
        counters=(
            Counter("orders_due", _("今日到期咨询单"), "due", _due_today),
            Counter(
                "orders_done",
                _("今日到期且已交付"),
                "done",
                lambda now: _due_today(now) & Q(delivered_at__isnull=False),
            ),
            Counter(
                "orders_overdue", _("逾期咨询单"), "overdue", lambda now: Q(state__in=OPEN, due_at__lt=now)
            ),
        ),
        describe=describe_order,
        due_field="due_at",
        select_related=("client", "manager", "consultant"),
        sla=True,
    )
)

register(
    LiveSource(
        key="followups",
        label=_("跟进事项"),
        model=FollowUp,
        employee="owner_id",
        counters=(
            Counter("followups_due", _("今日到期跟进"), "due", lambda now: Q(due_on=_today(now))),
            Counter(
                "followups_done",
                _("今日到期且已完成"),
                "done",
                lambda now: Q(due_on=_today(now), state=FollowUp.State.DONE),
            ),
            Counter(
                "followups_overdue",
                _("逾期跟进事项"),
                "overdue",
                lambda now: Q(state=FollowUp.State.OPEN, due_on__lt=_today(now)),
            ),
        ),
        describe=describe_followup,
        due_field="due_on",
        select_related=("owner",),
    )
)
