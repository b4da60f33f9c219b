"""Wiring of the premium service into the shared registries: the card on the client 360 page, the
client timeline (enrolments, requests and what was said to the client), the 工作台 cards, and the
periodic tasks (imported so Huey registers them)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import client_panels, timeline, workbench
from branchcare.org.capabilities import Cap

from . import tasks  # noqa: F401 - registers the periodic tasks with Huey
from .models import Enrolment, PremiumRequest, RequestMessage, ResearchQuestion
from .selectors import premium_scope_q
from .workflows import OPEN_STATES

# --- client 360 panel --------------------------------------------------------------------------------------


def premium_panel(client, viewer):
    """Premium status, broker, rate and enrolment history (one query); only for clients who have or had
    an enrolment, or to the director (who can enrol from here)."""
    history = list(
        Enrolment.objects.filter(client=client)
        .select_related("broker", "backup_broker")
        .order_by("-effective_on", "-id")[:10]
    )
    is_director = viewer.has_cap(Cap.SUPERVISE) and viewer.branch_id == client.branch_id
    if not history and not is_director:
        return None
    active = next((e for e in history if e.state == Enrolment.State.ACTIVE), None)
    can_open = is_director or any(viewer.pk in (e.broker_id, e.backup_broker_id) for e in history)
    return client_panels.ClientPanel(
        title=_("高端服务"),
        template="premium/_client_panel.html",
        context={
            "active": active,
            "history": history,
            "can_enrol": is_director and active is None and client.status == "active",
            "can_open": can_open,
            "can_request": active is not None
            and (is_director or viewer.pk in (active.broker_id, active.backup_broker_id)),
        },
        order=20,
        column="side",
    )


client_panels.register("premium.enrolment", premium_panel)


# --- client timeline ---------------------------------------------------------------------------------------


def premium_events(*, client, viewer, start, end):
    """Enrolment changes, requests, and what was said to the client (three queries). Whoever may open the
    client's page sees these events (internal notes and research questions stay on the desk); links to
    the premium pages only for those who may open them."""
    linked = premium_scope_q(viewer) is not None

    def link(name: str, pk: int) -> str:
        return reverse(f"premium:{name}", args=[pk]) if linked else ""

    for e in Enrolment.objects.filter(client=client).select_related("broker")[:50]:
        on = timezone.make_aware(dt.datetime.combine(e.effective_on, dt.time.min))
        if start <= on <= end:
            yield timeline.TimelineEvent(
                at=on, kind="premium_enrolment",
                title=_("签约高端服务（%(t)s，%(r)s‰）") % {"t": e.get_tier_display(), "r": e.commission_rate},
                detail=_("协议 %(n)s；专属经纪人 %(b)s") % {"n": e.agreement_no, "b": e.broker}, actor=str(e.broker),
                url=link("enrolment_detail", e.pk), icon="bi-gem",
            )  # fmt: skip
        if e.ended_on:
            off = timezone.make_aware(dt.datetime.combine(e.ended_on, dt.time.min))
            if start <= off <= end:
                yield timeline.TimelineEvent(
                    at=off, kind="premium_enrolment", title=_("高端服务%(s)s") % {"s": e.get_state_display()},
                    detail=e.reason, url=link("enrolment_detail", e.pk), icon="bi-gem",
                )  # fmt: skip
    requests = PremiumRequest.objects.filter(client=client)
    for r in requests.filter(received_at__range=(start, end)).select_related("broker")[:100]:
        yield timeline.TimelineEvent(
            at=r.received_at, kind="premium_request",
            title=_("高端客户请求 #%(pk)s（%(s)s）") % {"pk": r.pk, "s": r.get_state_display()},
            detail=f"{r.get_channel_display()}：{r.subject}", actor=str(r.broker),
            url=link("request_detail", r.pk), icon="bi-telephone-inbound",
        )  # fmt: skip
    said = (
        RequestMessage.objects.filter(request__in=requests, to_client=True, at__range=(start, end))
        .select_related("author")
        .only("at", "kind", "text", "request_id", "author__name", "author__username")[:200]
    )
    for m in said:
        yield timeline.TimelineEvent(
            at=m.at, kind="premium_message",
            title=_("%(k)s（请求 #%(pk)s）") % {"k": m.get_kind_display(), "pk": m.request_id},
            detail=m.text[:160], actor=str(m.author or ""), url=link("request_detail", m.request_id),
            icon="bi-chat-left-text",
        )  # fmt: skip


timeline.register("premium.requests", premium_events)


# --- workbench ---------------------------------------------------------------------------------------------


def premium_cards(user) -> list[workbench.WorkbenchCard]:
    cards: list[workbench.WorkbenchCard] = []
    now = timezone.now()
    if user.has_cap(Cap.PREMIUM_SERVE) or user.has_cap(Cap.SUPERVISE):
        q = premium_scope_q(user)
        if q is not None:
            stats = PremiumRequest.objects.filter(q, state__in=OPEN_STATES).aggregate(
                open=Count("pk"),
                late=Count(
                    "pk",
                    filter=Q(resolution_due__lte=now)
                    | Q(responded_at__isnull=True, first_response_due__lte=now),
                ),
                new=Count("pk", filter=Q(state=PremiumRequest.State.NEW)),
            )
            url = reverse("premium:desk")
            cards += [
                workbench.WorkbenchCard(
                    title=_("高端客户在办请求"), value=stats["open"], unit=_("件"), url=url, icon="bi-gem", order=30,
                    note=_("其中待受理 %(n)s 件") % {"n": stats["new"]},
                ),
                workbench.WorkbenchCard(
                    title=_("高端请求超时"), value=stats["late"], unit=_("件"), url=f"{url}?escalated=1&f=1",
                    icon="bi-alarm", tone="danger" if stats["late"] else "success", order=31,
                ),
            ]  # fmt: skip
    if user.has_cap(Cap.RESEARCH_WRITE) and user.branch_id:
        pending = (
            ResearchQuestion.objects.filter(branch_id=user.branch_id, answered_at__isnull=True)
            .filter(Q(researcher__isnull=True) | Q(researcher=user))
            .count()
        )
        cards.append(
            workbench.WorkbenchCard(
                title=_("待答复的经纪人研究问题"), value=pending, unit=_("个"), url=reverse("premium:questions"),
                icon="bi-question-circle", tone="warning" if pending else "success", order=32,
            )
        )  # fmt: skip
    return cards


workbench.register("premium.desk", premium_cards)
