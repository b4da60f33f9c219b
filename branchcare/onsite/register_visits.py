"""Hooks of the plans/visits/patrols part: client 360 timeline events, 工作台 cards, the Huey tasks.
Imported by ``OnsiteConfig.ready()``."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import timeline, workbench
from branchcare.org.capabilities import Cap, Scope

from . import tasks  # noqa: F401 - registers the daily plan task with Huey
from .models import FollowUp, Patrol, PatrolPlanItem, Visit, VisitPlan, VisitPlanItem


def _can_open(viewer, visit, client) -> bool:
    """Whether the visit page would open for ``viewer`` (the same rule as ``selectors_visits``), without
    a query per event: the manager who made it, or a supervisor of the client's branch."""
    if viewer.has_cap(Cap.ONSITE_SERVE) and visit.manager_id == viewer.pk:
        return True
    scope = viewer.scope_for(Cap.SUPERVISE)
    if scope == Scope.COMPANY:
        return True
    return scope is not None and viewer.branch_id == client.branch_id


def visit_events(*, client, viewer, start, end):
    """The client's visits, and the patrols at which the client was present: two queries."""
    visits = (
        Visit.objects.filter(client=client, at__range=(start, end))
        .select_related("manager")
        .only(
            "pk", "at", "topic", "place", "plan_item_id", "manager_id", "manager__name", "manager__username"
        )
        .order_by("-at")[:200]
    )
    for v in visits:
        planned = _("计划内") if v.plan_item_id else _("计划外")
        yield timeline.TimelineEvent(
            at=v.at,
            kind="visit",
            title=_("拜访（%(p)s）") % {"p": planned},
            detail=f"{v.get_place_display()} · {v.topic}",
            actor=str(v.manager),
            url=reverse("onsite:visit_detail", args=[v.pk]) if _can_open(viewer, v, client) else "",
            icon="bi-person-walking",
        )
    patrols = (
        Patrol.objects.filter(clients_present=client, at__range=(start, end))
        .select_related("manager", "room")
        .only("pk", "at", "room__name", "manager__name", "manager__username")
        .order_by("-at")[:200]
    )
    for p in patrols:
        yield timeline.TimelineEvent(
            at=p.at,
            kind="patrol",
            title=_("巡视时在场"),
            detail=p.room.name,
            actor=str(p.manager),
            icon="bi-binoculars",
        )


def visit_cards(user) -> list[workbench.WorkbenchCard]:
    today = timezone.localdate()
    cards: list[workbench.WorkbenchCard] = []
    today_url = reverse("onsite:today")
    if user.has_cap(Cap.ONSITE_SERVE):
        plan = VisitPlan.objects.filter(manager=user, date=today).first()
        if plan is None:
            cards.append(
                workbench.WorkbenchCard(
                    title=_("今日拜访"),
                    value=_("未生成"),
                    url=today_url,
                    icon="bi-calendar-check",
                    note=_("还没有今日计划，点击生成今日计划"),
                    order=1,
                )
            )
        else:
            visits = plan.items.aggregate(
                done=Count("pk", filter=Q(status=VisitPlanItem.Status.DONE)),
            )["done"]
            patrols = plan.patrol_items.filter(status=PatrolPlanItem.Status.DONE).count()
            cards += [
                workbench.WorkbenchCard(
                    title=_("今日拜访"),
                    value=f"{visits}/{plan.visits_quota}",
                    url=today_url,
                    icon="bi-person-walking",
                    tone="success" if visits >= plan.visits_quota else "primary",
                    order=1,
                ),
                workbench.WorkbenchCard(
                    title=_("今日巡视"),
                    value=f"{patrols}/{plan.patrols_quota}",
                    url=today_url,
                    icon="bi-binoculars",
                    tone="success" if patrols >= plan.patrols_quota else "primary",
                    order=2,
                ),
            ]
    if user.has_cap(Cap.ONSITE_SERVE) or user.has_cap(Cap.SUPERVISE):
        overdue = FollowUp.objects.filter(owner=user, state=FollowUp.State.OPEN, due_on__lt=today).count()
        cards.append(
            workbench.WorkbenchCard(
                title=_("逾期跟进事项"),
                value=overdue,
                unit=_("项"),
                url=reverse("onsite:followups") + "?state=open&overdue=1",
                icon="bi-exclamation-octagon",
                tone="danger" if overdue else "secondary",
                order=3,
            )
        )
    if user.has_cap(Cap.SUPERVISE) and user.branch_id:
        plans = VisitPlan.objects.filter(branch_id=user.branch_id, date=today).aggregate(
            n=Count("pk"), planned=Count("items", filter=~Q(items__status=VisitPlanItem.Status.SWAPPED))
        )
        done = VisitPlanItem.objects.filter(
            plan__branch_id=user.branch_id, plan__date=today, status=VisitPlanItem.Status.DONE
        ).count()
        unplanned = Visit.objects.filter(
            branch_id=user.branch_id, at__date=today, plan_item__isnull=True
        ).count()
        patrol_counts = PatrolPlanItem.objects.filter(
            plan__branch_id=user.branch_id, plan__date=today
        ).aggregate(n=Count("pk"), done=Count("pk", filter=Q(status=PatrolPlanItem.Status.DONE)))
        cards.append(
            workbench.WorkbenchCard(
                title=_("本营业部今日拜访"),
                value=f"{done}/{plans['planned']}",
                url=today_url,
                icon="bi-people",
                note=_("%(n)d 份计划，另有计划外拜访 %(u)d 次") % {"n": plans["n"], "u": unplanned},
                order=4,
            )
        )
        cards.append(
            workbench.WorkbenchCard(
                title=_("本营业部今日巡视"),
                value=f"{patrol_counts['done']}/{patrol_counts['n']}",
                url=today_url,
                icon="bi-binoculars",
                order=5,
            )
        )
    return cards


timeline.register("onsite.visits", visit_events)
workbench.register("onsite.visits", visit_cards)
