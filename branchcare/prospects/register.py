"""Wiring of prospect development into the shared registries: the conversion on ``clients.created``,
the 工作台 cards, the client 360 timeline (where the client came from), the import declaration and the
periodic tasks."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import client_panels, events, timeline, workbench

from . import import_specs, tasks  # noqa: F401 - registers the import and the periodic tasks
from .models import Prospect
from .selectors import prospect_scope_q
from .workflows import OPEN_STAGES, is_owner_role


def on_clients_created(*, client_ids: list[int], actor: Any = None, **payload: Any) -> None:
    """New clients (form, API or import): convert the prospects they match, in bulk."""
    from .services import convert_clients

    convert_clients(client_ids=client_ids, actor=actor)


events.subscribe("clients.created", on_clients_created, key="prospects.convert")


def prospect_cards(user) -> list[workbench.WorkbenchCard]:
    if not is_owner_role(user) or not user.branch_id:
        return []
    today = timezone.localdate()
    url = reverse("prospects:list")
    stats = Prospect.objects.filter(
        Q(owner=user) | Q(owner__isnull=True, branch_id=user.branch_id), stage__in=OPEN_STAGES
    ).aggregate(
        mine=Count("pk", filter=Q(owner=user)),
        due=Count("pk", filter=Q(owner=user, next_follow_up_due__lte=today)),
        pool=Count("pk", filter=Q(owner__isnull=True)),
    )
    return [
        workbench.WorkbenchCard(
            title=_("我的潜在客户"), value=stats["mine"], unit=_("位"), url=f"{url}?view=mine",
            icon="bi-person-plus", order=60,
        ),
        workbench.WorkbenchCard(
            title=_("今日待跟进潜客"), value=stats["due"], unit=_("位"), url=f"{url}?view=mine&overdue=1",
            icon="bi-telephone-outbound", tone="warning" if stats["due"] else "success", order=61,
        ),
        workbench.WorkbenchCard(
            title=_("公海潜客"), value=stats["pool"], unit=_("位"), url=f"{url}?view=pool",
            icon="bi-water", order=62,
        ),
    ]  # fmt: skip


workbench.register("prospects", prospect_cards)


def prospect_events(*, client, viewer, start, end):
    """The prospect this client was developed from, and when the account was linked."""
    q = prospect_scope_q(viewer)
    if q is None:
        return
    rows = (
        Prospect.objects.filter(q, client=client, converted_at__range=(start, end))
        .select_related("credited_owner", "credited_partner")
        .only("pk", "converted_at", "source", "credited_owner__name", "credited_owner__username",
              "credited_partner__name")[:10]
    )  # fmt: skip
    for p in rows:
        if p.converted_at is None:
            continue
        detail = p.get_source_display()
        if p.credited_partner_id:
            detail += f" · {p.credited_partner.name}"  # type: ignore[union-attr]
        yield timeline.TimelineEvent(
            at=p.converted_at,
            kind="prospect",
            title=_("由潜在客户 #%(pk)s 转化开户") % {"pk": p.pk},
            detail=detail,
            actor=str(p.credited_owner or ""),
            url=reverse("prospects:detail", args=[p.pk]),
            icon="bi-person-check",
        )


timeline.register("prospects", prospect_events)


def origin_panel(client, viewer) -> client_panels.ClientPanel | None:
    """On the client page (side column): the prospect this client was developed from — source, partner,
    credited owner, offered rate. One query; shown to those who may see the prospect."""
    q = prospect_scope_q(viewer)
    if q is None:
        return None
    p = (
        Prospect.objects.filter(q, client=client)
        .select_related("credited_partner", "credited_owner")
        .order_by("-converted_at")
        .first()
    )
    if p is None:
        return None
    return client_panels.ClientPanel(
        title=_("客户来源"),
        template="prospects/_client_panel.html",
        context={"p": p},
        order=80,
        column="side",
    )


client_panels.register("prospects.origin", origin_panel)
