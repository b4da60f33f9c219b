"""Wiring of the off-site service into the shared registries: domain events (return-visit rules), the
client 360 timeline, and the 工作台 cards.

Events published by this app (``core.events``):

- ``offsite.complaint_closed``: ``inquiry_id``, ``client_id`` (may be None), ``branch_id``, ``actor``.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import client_panels, events, timeline, workbench
from branchcare.org.capabilities import Cap

from . import services_visits as visits
from . import tasks  # noqa: F401 - registers the periodic tasks with Huey
from .models import Inquiry, ReturnVisit
from .services_inquiries import inquiry_scope_q, overdue_q
from .services_visits import visit_scope_q
from .workflows import ACTIVE_STATES

events.subscribe("clients.created", visits.on_clients_created, key="offsite.new_account_visits")
events.subscribe("clients.risk_level_changed", visits.on_risk_level_changed, key="offsite.risk_visits")
events.subscribe("offsite.complaint_closed", visits.on_complaint_closed, key="offsite.complaint_visits")
events.subscribe("premium.enrolled", visits.on_premium_enrolled, key="offsite.premium_visits")


# --- client 360 timeline -----------------------------------------------------------------------------------


def offsite_events(*, client, viewer, start, end):
    """The client's inquiries/complaints and completed return visits the viewer may see (two queries)."""
    q = inquiry_scope_q(viewer)
    if q is not None:
        rows = (
            Inquiry.objects.filter(q, client=client, created_at__range=(start, end))
            .select_related("created_by")
            .only("pk", "kind", "subject", "state", "created_at", "created_by__name", "created_by__username")[
                :100
            ]
        )
        for i in rows:
            yield timeline.TimelineEvent(
                at=i.created_at,
                kind="complaint" if i.kind == Inquiry.Kind.COMPLAINT else "inquiry",
                title=_("%(k)s #%(pk)s（%(s)s）")
                % {"k": i.get_kind_display(), "pk": i.pk, "s": i.get_state_display()},
                detail=i.subject[:120],
                actor=str(i.created_by or ""),
                url=reverse("offsite:inquiry_detail", args=[i.pk]),
                icon="bi-megaphone" if i.kind == Inquiry.Kind.COMPLAINT else "bi-headset",
            )
    vq = visit_scope_q(viewer)
    if vq is not None:
        done = (
            ReturnVisit.objects.filter(vq, client=client, completed_at__range=(start, end))
            .select_related("rule", "assignee")
            .only("pk", "completed_at", "state", "rule__name", "assignee__name", "assignee__username")[:100]
        )
        for v in done:
            yield timeline.TimelineEvent(
                at=v.completed_at or v.created_at,
                kind="return_visit",
                title=_("回访：%(r)s（%(s)s）") % {"r": v.rule.name, "s": v.get_state_display()},
                actor=str(v.assignee or ""),
                url=reverse("offsite:revisit_detail", args=[v.pk]),
                icon="bi-telephone-outbound",
            )


timeline.register("offsite.service", offsite_events)


# --- client 360 panel --------------------------------------------------------------------------------------


def offsite_panel(client, viewer) -> client_panels.ClientPanel | None:
    """The client's open inquiries/complaints and return visits, with a one-click registration (two queries)."""
    q = inquiry_scope_q(viewer)
    if q is None:
        return None
    inquiries = list(
        Inquiry.objects.filter(q, client=client, state__in=ACTIVE_STATES)
        .only("pk", "kind", "subject", "state", "resolution_due")
        .order_by("-created_at")[:5]
    )
    vq = visit_scope_q(viewer)
    open_visits = (
        list(
            ReturnVisit.objects.filter(vq, client=client, state=ReturnVisit.State.OPEN)
            .select_related("rule")
            .order_by("due_on")[:5]
        )
        if vq is not None
        else []
    )
    return client_panels.ClientPanel(
        title=_("非现场服务"),
        template="offsite/panels/client_offsite.html",
        context={
            "inquiries": inquiries,
            "visits": open_visits,
            "can_register": viewer.has_cap(Cap.OFFSITE_HANDLE) or viewer.has_cap(Cap.SUPERVISE),
        },
        order=60,
    )


client_panels.register("offsite.service", offsite_panel)


# --- workbench cards ---------------------------------------------------------------------------------------


def offsite_cards(user) -> list[workbench.WorkbenchCard]:
    cards: list[workbench.WorkbenchCard] = []
    now = timezone.now()
    url = reverse("offsite:inquiries")
    is_agent = user.has_cap(Cap.OFFSITE_HANDLE)
    if is_agent or user.has_cap(Cap.ONSITE_SERVE):
        stats = Inquiry.objects.filter(assignee=user, state__in=ACTIVE_STATES).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=overdue_q(now))
        )
        if is_agent or stats["open"]:
            cards += [
                workbench.WorkbenchCard(
                    title=_("我经办的咨询投诉"), value=stats["open"], unit=_("件"), url=f"{url}?mine=1&open=1",
                    icon="bi-headset", order=30,
                ),
                workbench.WorkbenchCard(
                    title=_("逾期的咨询投诉"), value=stats["overdue"], unit=_("件"), url=f"{url}?mine=1&overdue=1",
                    icon="bi-exclamation-octagon", tone="danger" if stats["overdue"] else "success", order=31,
                ),
            ]  # fmt: skip
    if is_agent:
        today = timezone.localdate()
        v = ReturnVisit.objects.filter(assignee=user, state=ReturnVisit.State.OPEN).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today))
        )
        cards.append(
            workbench.WorkbenchCard(
                title=_("待我回访"), value=v["open"], unit=_("位"), url=reverse("offsite:revisits") + "?mine=1&state=open",
                icon="bi-telephone-outbound", tone="danger" if v["overdue"] else "primary", order=32,
                note=_("其中逾期 %(n)s 位") % {"n": v["overdue"]} if v["overdue"] else "",
            )
        )  # fmt: skip
    if user.has_cap(Cap.SUPERVISE) and user.branch_id:
        n = Inquiry.objects.filter(branch_id=user.branch_id, escalated=True, state__in=ACTIVE_STATES).count()
        cards.append(
            workbench.WorkbenchCard(
                title=_("已升级的咨询投诉"), value=n, unit=_("件"), url=f"{url}?escalated=1&open=1",
                icon="bi-arrow-up-circle", tone="danger" if n else "success", order=33,
            )
        )  # fmt: skip
    if user.has_cap(Cap.COMPLIANCE_REVIEW) and user.branch_id:
        n = Inquiry.objects.filter(
            branch_id=user.branch_id, kind=Inquiry.Kind.COMPLAINT, state__in=ACTIVE_STATES
        ).count()
        cards.append(
            workbench.WorkbenchCard(
                title=_("在办投诉"), value=n, unit=_("件"), url=f"{url}?kind=complaint&open=1",
                icon="bi-megaphone", tone="warning" if n else "success", order=34,
            )
        )  # fmt: skip
    return cards


workbench.register("offsite.service", offsite_cards)
