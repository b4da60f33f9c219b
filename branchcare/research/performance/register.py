"""推荐绩效 hooks: the analyst's card on the 工作台, and computing a recommendation's (pending) outcome as
soon as the research platform announces its publication."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from branchcare.core import events
from branchcare.core.workbench import WorkbenchCard, register
from branchcare.org.capabilities import Cap

from . import selectors
from .templatetags.perf_tags import fpct, rate


def analyst_card(user) -> list[WorkbenchCard]:
    """A researcher's own track record: hit rate, count and average 20-day excess return (one query)."""
    if not user.has_cap(Cap.RESEARCH_WRITE):
        return []
    mine = selectors.LeagueFilters(author=user.pk)
    totals = selectors.league_totals(viewer=user, filters=mine)
    if not totals.count:
        return []
    url = reverse("research_performance:league") + f"?author={user.pk}#recommendations"
    return [
        WorkbenchCard(
            title=_("我的推荐命中率"),
            value=rate(totals.hit_rate),
            url=url,
            icon="bi-bullseye",
            tone="danger",
            rows=[
                (_("个股推荐"), str(totals.count), url),
                (_("20日平均超额"), fpct(totals.avg_excess_20), url),
                (_("60日平均超额"), fpct(totals.avg_excess_60), url),
            ],
            order=60,
        )
    ]


register("research_performance", analyst_card)


def on_item_published(*, item_id: int, **_payload) -> None:
    """``research.published``: create the outcome row (pending until closes after publication
    arrive) once the publishing transaction has committed."""

    def run() -> None:
        from .tasks import refresh_items_task

        refresh_items_task([item_id])

    transaction.on_commit(run)


events.subscribe("research.published", on_item_published)
