"""Wiring of the consultation pipeline into the shared registries: hand-off notifications (workflow
hooks), the client 360 timeline, the 工作台 cards, and the periodic overdue check."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import timeline, workbench
from branchcare.core.notify import notify
from branchcare.org.capabilities import Cap

from . import tasks_consultations  # noqa: F401 - registers the periodic task with Huey
from .models import Advice, ConsultationOrder
from .services_consultations import order_scope_q
from .workflows import CLOCK_STATES, CONSULTATION, OPEN_STATES

S = ConsultationOrder.State

HANDOFF_TITLES = {
    "submit": "新咨询单待分析：#%(pk)s %(client)s",
    "start_analysis": "咨询单 #%(pk)s 已开始分析",
    "submit_advice": "咨询单 #%(pk)s 投顾意见待复核",
    "return_for_rework": "咨询单 #%(pk)s 的投顾意见被退回修改",
    "accept": "咨询单 #%(pk)s 投顾意见已通过复核，请共同交付",
    "deliver": "咨询单 #%(pk)s 已交付客户",
    "close": "咨询单 #%(pk)s 已关闭，请评价咨询单完整度",
    "cancel": "咨询单 #%(pk)s 已取消",
}


@CONSULTATION.on_transition
def notify_handoff(order: ConsultationOrder, actor: Any, t: Any, from_state: str) -> None:
    """Tell the other party of each hand-off (in-app)."""
    recipients = [u for u in (order.manager, order.consultant) if u is not None and u.pk != actor.pk]
    if not recipients:
        return
    title = _(HANDOFF_TITLES.get(t.name, "咨询单 #%(pk)s：%(client)s")) % {
        "pk": order.pk,
        "client": order.client.name,
    }
    notify(
        recipients=recipients,
        title=title,
        url=reverse("onsite:consultation_detail", args=[order.pk]),
        kind="warning" if t.name in ("return_for_rework", "cancel") else "info",
    )


# --- client 360 timeline -----------------------------------------------------------------------------------


def consultation_events(*, client, viewer, start, end):
    """Orders raised for the client and the advice delivered to them (two queries)."""
    q = order_scope_q(viewer)
    if q is None:
        return
    orders = (
        ConsultationOrder.objects.filter(q, client=client, created_at__range=(start, end))
        .select_related("manager", "consultant")
        .only("pk", "created_at", "state", "question", "manager__name", "manager__username",
              "consultant__name", "consultant__username")[:100]
    )  # fmt: skip
    for o in orders:
        yield timeline.TimelineEvent(
            at=o.created_at,
            kind="consultation",
            title=_("咨询单 #%(pk)s（%(s)s）") % {"pk": o.pk, "s": o.get_state_display()},
            detail=o.question[:120],
            actor=str(o.manager),
            url=reverse("onsite:consultation_detail", args=[o.pk]),
            icon="bi-chat-square-text",
        )
    advices = (
        Advice.objects.filter(
            order__in=ConsultationOrder.objects.filter(q, client=client),
            delivered_at__range=(start, end),
        )
        .select_related("consultant")
        .only(
            "pk", "order_id", "version", "delivered_at", "overall", "consultant__name", "consultant__username"
        )[:100]
    )
    for a in advices:
        yield timeline.TimelineEvent(
            at=a.delivered_at or a.created_at,  # the query keeps delivered advice only
            kind="advice",
            title=_("交付投顾意见（咨询单 #%(pk)s 第 %(v)s 版）") % {"pk": a.order_id, "v": a.version},
            detail=a.overall[:120],
            actor=str(a.consultant),
            url=reverse("onsite:consultation_detail", args=[a.order_id]),
            icon="bi-clipboard-check",
        )


timeline.register("onsite.consultations", consultation_events)


# --- workbench cards ---------------------------------------------------------------------------------------


def consultation_cards(user) -> list[workbench.WorkbenchCard]:
    now = timezone.now()
    url = reverse("onsite:consultations")
    cards: list[workbench.WorkbenchCard] = []
    if user.has_cap(Cap.ONSITE_SERVE):
        mine = ConsultationOrder.objects.filter(manager=user, state__in=OPEN_STATES)
        stats = mine.aggregate(open=_count(Q()), soon=_count(Q(state__in=CLOCK_STATES, warn_at__lte=now)))
        open_n, soon = stats["open"], stats["soon"]
        cards += [
            workbench.WorkbenchCard(
                title=_("我的在办咨询单"), value=open_n, unit=_("张"), url=f"{url}?open=1",
                icon="bi-chat-square-text", order=40,
            ),
            workbench.WorkbenchCard(
                title=_("即将到期或逾期的咨询单"), value=soon, unit=_("张"), url=f"{url}?open=1",
                icon="bi-hourglass-split", tone="warning" if soon else "success", order=41,
            ),
        ]  # fmt: skip
    if user.has_cap(Cap.ADVICE_WRITE):
        queue = ConsultationOrder.objects.filter(consultant=user, state__in=CLOCK_STATES)
        day_end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        stats = queue.aggregate(
            size=_count(Q(state__in=[S.SUBMITTED, S.IN_ANALYSIS])),
            overdue=_count(Q(due_at__lte=now)),
            today=_count(Q(due_at__gt=now, due_at__lte=day_end)),
        )
        cards += [
            workbench.WorkbenchCard(
                title=_("待我分析的咨询单"), value=stats["size"], unit=_("张"), url=f"{url}?mine=1&open=1",
                icon="bi-inbox", order=40,
            ),
            workbench.WorkbenchCard(
                title=_("逾期咨询单"), value=stats["overdue"], unit=_("张"), url=f"{url}?mine=1&overdue=1",
                icon="bi-exclamation-octagon", tone="danger" if stats["overdue"] else "success", order=41,
            ),
            workbench.WorkbenchCard(
                title=_("今日到期"), value=stats["today"], unit=_("张"), url=f"{url}?mine=1&open=1",
                icon="bi-alarm", tone="warning", order=42,
            ),
        ]  # fmt: skip
    return cards


def _count(q: Q) -> Count:
    return Count("pk", filter=q)


workbench.register("onsite.consultations", consultation_cards)
