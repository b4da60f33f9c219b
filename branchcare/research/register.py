"""Wiring of the research platform into the shared registries: workflow notifications, the client
360 timeline (every delivery), the client panel "相关研究", the 工作台 cards and the Huey tasks."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from branchcare.core import client_panels, timeline, workbench
from branchcare.core.notify import notify
from branchcare.org.capabilities import Cap

from . import selectors as sel
from . import (
    services,  # noqa: F401 - registers the gateway channels with core.notify
    tasks,  # noqa: F401 - registers the Huey tasks
)
from .models import ResearchDelivery, ResearchItem
from .workflows import RESEARCH

# --- workflow notifications --------------------------------------------------------------------------------


@RESEARCH.on_transition
def notify_review(item: ResearchItem, actor: Any, t: Any, from_state: str) -> None:
    """Tell the author about the review decision; tell reviewers about a new submission (in-app)."""
    url = reverse("research:item_detail", args=[item.pk])
    if (
        t.name in ("approve", "reject", "withdraw")
        and item.author_id
        and item.author_id != getattr(actor, "pk", None)
    ):
        titles = {
            "approve": _("研究《%(t)s》已通过合规审核并发布"),
            "reject": _("研究《%(t)s》被合规退回修改"),
            "withdraw": _("研究《%(t)s》已撤回"),
        }
        notify(
            recipients=[item.author],
            title=titles[t.name] % {"t": item.title[:80]},
            body=item.review_comment if t.name != "withdraw" else item.withdrawn_reason,
            url=url,
            kind="warning" if t.name != "approve" else "info",
        )
    elif t.name == "submit":
        from branchcare.org.models import User

        reviewers = [
            u
            for u in User.objects.filter(
                is_active=True, branch_id=getattr(actor, "branch_id", None)
            ).prefetch_related("roles")[:200]
            if u.has_cap(Cap.RESEARCH_REVIEW)
        ]
        if reviewers:
            notify(recipients=reviewers, title=_("研究《%(t)s》待合规审核") % {"t": item.title[:80]}, url=url)


# --- client 360: timeline and panel ------------------------------------------------------------------------


def delivery_events(*, client, viewer, start, end):
    """Research delivered to the client (one query)."""
    if not sel.can_read(viewer) and not viewer.has_cap(Cap.CLIENTS_VIEW):
        return
    rows = (
        ResearchDelivery.objects.filter(client=client, created_at__range=(start, end))
        .select_related("item", "delivered_by", "created_by", "owner")
        .order_by("-created_at")[:100]
    )
    for d in rows:
        status = d.get_status_display()
        detail = d.item.title
        if d.status == ResearchDelivery.Status.FAILED and d.failure_reason:
            detail += " · " + d.failure_reason
        yield timeline.TimelineEvent(
            at=d.delivered_at or d.created_at,
            kind="research",
            title=_("研究交付：%(ch)s（%(s)s）") % {"ch": d.get_channel_display(), "s": status},
            detail=detail[:200],
            actor=str(d.delivered_by or d.created_by or d.owner or ""),
            url=reverse("research:item_detail", args=[d.item_id]) if sel.can_read(viewer) else "",
            icon="bi-journal-arrow-up",
        )


def research_panel(client, viewer) -> client_panels.ClientPanel | None:
    if not sel.can_read(viewer):
        return None
    items = sel.research_for_client(client=client, limit=8)
    return client_panels.ClientPanel(
        title=_("相关研究"),
        template="research/panels/client_research.html",
        context={"items": items},
        order=40,
    )


timeline.register("research.deliveries", delivery_events)
client_panels.register("research.related", research_panel)


# --- workbench ---------------------------------------------------------------------------------------------


def research_cards(user) -> list[workbench.WorkbenchCard]:
    cards: list[workbench.WorkbenchCard] = []
    if user.has_cap(Cap.ADVICE_WRITE) or user.has_cap(Cap.PREMIUM_SERVE):
        latest = sel.latest_published(viewer=user, limit=5)
        cards.append(
            workbench.WorkbenchCard(
                title=_("最新研究"),
                value=len(latest),
                unit=_("篇"),
                url=reverse("research:items") + "?state=published",
                icon="bi-journal-text",
                tone="info",
                rows=[
                    (
                        i.title[:24],
                        f"{i.risk_rating} · {i.published_on:%m-%d}" if i.published_on else i.risk_rating,
                        reverse("research:item_detail", args=[i.pk]),
                    )
                    for i in latest
                ],  # fmt: skip
                order=45,
            )
        )
    if user.has_cap(Cap.RESEARCH_REVIEW):
        queue = list(sel.review_queue(viewer=user)[:5])
        cards.append(
            workbench.WorkbenchCard(
                title=_("待审核研究"),
                value=len(queue),
                unit=_("篇"),
                url=reverse("research:review_queue"),
                icon="bi-shield-check",
                tone="warning" if queue else "success",
                rows=[
                    (i.title[:24], str(i.author or ""), reverse("research:item_detail", args=[i.pk]))
                    for i in queue
                ],
                order=30,
            )
        )
    if user.has_cap(Cap.RESEARCH_WRITE):
        mine = list(
            ResearchItem.objects.filter(
                author=user, state__in=[ResearchItem.State.DRAFT, ResearchItem.State.REVIEW]
            )
            .only("pk", "title", "state", "review_decision")
            .order_by("-updated_at")[:5]
        )
        cards.append(
            workbench.WorkbenchCard(
                title=_("我的研究草稿与审核中"),
                value=len(mine),
                unit=_("篇"),
                url=reverse("research:items") + "?mine=1",
                icon="bi-pencil-square",
                tone="primary",
                rows=[
                    (
                        i.title[:24],
                        i.get_state_display()
                        + (_("（被退回）") if i.review_decision == "reject" and i.state == "draft" else ""),
                        reverse("research:item_detail", args=[i.pk]),
                    )
                    for i in mine
                ],  # fmt: skip
                order=30,
            )
        )
    if user.has_cap(Cap.ONSITE_SERVE) or user.has_cap(Cap.PREMIUM_SERVE) or user.has_cap(Cap.SUPERVISE):
        tasks_ = sel.my_delivery_tasks(user=user, limit=5)
        if tasks_:
            cards.append(
                workbench.WorkbenchCard(
                    title=_("待当面交付研究"),
                    value=len(tasks_),
                    unit=_("项"),
                    url=reverse("research:my_tasks"),
                    icon="bi-person-video2",
                    tone="warning",
                    rows=[(d.client.name, d.item.title[:20], reverse("research:my_tasks")) for d in tasks_],
                    order=35,
                )
            )
    return cards


workbench.register("research", research_cards)
