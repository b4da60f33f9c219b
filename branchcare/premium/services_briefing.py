"""The broker's daily briefing (经纪人每日简报).

Each trading-day morning (and on demand) a briefing is made for every broker with active premium
clients: per client, the published research relevant to their holdings and within their risk level
that is new since the client's last briefing (the research platform's ``research_for_client`` decides
relevance and suitability), leaving out items already briefed to that client. The broker explains each
item to the client and marks it explained, which records a delivery on the research platform
(``delivery_record(channel="briefing")`` — refused, with its message, for a source without a valid
licence or an item no longer published).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.research.selectors import research_for_client
from branchcare.research.services import delivery_record

from .models import Briefing, BriefingItem, Enrolment

LOOKBACK_DAYS = 7  # a client's first briefing looks back this far
PER_CLIENT = 20


@transaction.atomic
def briefing_generate(
    *, broker: Any, date: dt.date | None = None, actor: Any = None, now: dt.datetime | None = None
) -> Briefing:
    """Make (or top up) ``broker``'s briefing for ``date``. Idempotent: items already in the briefing, or
    briefed to the client before, are not added again."""
    now = now or timezone.now()
    date = date or timezone.localdate(now)
    if not broker.has_cap(Cap.PREMIUM_SERVE) or broker.branch_id is None:
        raise DomainError(_("只有经纪人有每日简报。"), code="forbidden")
    briefing, created = Briefing.objects.select_for_update().get_or_create(
        broker=broker, date=date, defaults={"branch_id": broker.branch_id, "generated_at": now}
    )
    if not created:
        briefing.generated_at = now
        briefing.save(update_fields=["generated_at"])
    enrolments = list(
        Enrolment.objects.filter(broker=broker, state=Enrolment.State.ACTIVE)
        .select_related("client")
        .order_by("client__client_no")
    )
    client_ids = [e.client_id for e in enrolments]
    seen: set[tuple[int, int]] = set(
        BriefingItem.objects.filter(client_id__in=client_ids).values_list("client_id", "item_id")
    )
    last_day: dict[int, dt.date] = {}
    for cid, day in (
        BriefingItem.objects.filter(client_id__in=client_ids, briefing__date__lt=date)
        .values_list("client_id", "briefing__date")
        .order_by("briefing__date")
    ):
        last_day[cid] = day
    new: list[BriefingItem] = []
    for e in enrolments:
        since = last_day.get(e.client_id, date - dt.timedelta(days=LOOKBACK_DAYS))
        for item in research_for_client(client=e.client, since=since, limit=PER_CLIENT):
            if (e.client_id, item.pk) in seen:
                continue
            seen.add((e.client_id, item.pk))
            new.append(BriefingItem(briefing=briefing, client=e.client, item=item))
    BriefingItem.objects.bulk_create(new)
    if not created and not new:
        return briefing  # nothing new to record
    audit_log(
        actor=actor,
        action="premium.briefing_generate",
        obj=briefing,
        changes={"items": [None, len(new)], "clients": [None, len(enrolments)]},
    )
    return briefing


@transaction.atomic
def briefing_explain(
    *, actor: Any, entry: BriefingItem, note: str = "", now: dt.datetime | None = None
) -> BriefingItem:
    """The broker explained ``entry``'s research to the client: record the delivery, stamp the entry."""
    now = now or timezone.now()
    locked = (
        BriefingItem.objects.select_for_update(of=("self",))
        .select_related("briefing", "item__source", "client")
        .get(pk=entry.pk)
    )
    if locked.briefing.broker_id != actor.pk:
        raise DomainError(_("只有简报所属的经纪人可以标记讲解。"), code="forbidden")
    if locked.explained_at is not None:
        raise DomainError(_("该条研究已标记为已讲解。"), code="invalid_state")
    delivery = delivery_record(
        actor=actor, item=locked.item, client=locked.client, channel="briefing", note=note
    )
    locked.explained_at, locked.explained_by, locked.delivery_id, locked.note = (
        now,
        actor,
        delivery.pk,
        note.strip()[:500],
    )
    locked.save(update_fields=["explained_at", "explained_by", "delivery_id", "note"])
    audit_log(
        actor=actor,
        action="premium.briefing_explain",
        obj=locked,
        branch_id=locked.briefing.branch_id,
        changes={"explained_at": [None, str(now)], "delivery": [None, delivery.pk]},
    )
    return locked


def briefings_generate_all(*, date: dt.date | None = None) -> int:
    """Every broker with active premium clients gets today's briefing (the morning job). One broker's
    failure does not stop the others. Returns how many briefings were made or topped up."""
    import logging

    from branchcare.org.models import User

    logger = logging.getLogger(__name__)
    broker_ids = sorted(
        set(Enrolment.objects.filter(state=Enrolment.State.ACTIVE).values_list("broker_id", flat=True))
    )
    made = 0
    for broker in User.objects.filter(pk__in=broker_ids, is_active=True).order_by("pk"):
        try:
            briefing_generate(broker=broker, date=date, actor=None)
        except DomainError as exc:
            logger.error("briefing for %s not generated: %s", broker.pk, exc)
            continue
        made += 1
    return made
