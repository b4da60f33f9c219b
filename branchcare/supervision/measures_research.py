"""Research measures (研究员): research output and recommendation performance. Reads
``branchcare.research`` (and ``research_performance`` when installed)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .measures import HIGHER, Basis, DrillRow, event_measure, source_available

ResearchItem = apps.get_model("research", "ResearchItem")
RESEARCHER = "researcher"


def _item_url(pk: Any) -> str:
    try:
        return reverse("research:item_detail", args=[pk])
    except NoReverseMatch:
        return ""


def describe_item(i: Any) -> DrillRow:
    return DrillRow(
        at=timezone.localtime(i.published_at) if i.published_at else i.published_on,
        title=i.title,
        detail=i.get_kind_display(),
        person=str(i.author or "—"),
        status=i.get_state_display(),
        url=_item_url(i.pk),
    )


event_measure(
    code="research_output",
    label=_("研究成果发布数"),
    unit="篇",
    direction=HIGHER,
    roles=(RESEARCHER,),
    kind="count",
    num_label=_("期内发布的研究成果"),
    help=_("期内发布（经合规审核）的研究报告、解盘与个股推荐篇数，计入作者。"),
    source="research",
    order=500,
    basis=Basis(
        model=ResearchItem,
        employee="author_id",
        day="published_at",
        branch_field="author__branch",
        base=lambda now: Q(published_at__isnull=False),
        select_related=("author",),
        order_by=("published_at", "pk"),
    ),
    describe=describe_item,
)

if source_available("research_performance"):
    Outcome = apps.get_model("research_performance", "RecommendationOutcome")
    R = Outcome.Result

    def describe_outcome(o: Any) -> DrillRow:
        return DrillRow(
            at=o.published_on,
            title=f"{o.security} · {o.get_direction_display() if hasattr(o, 'get_direction_display') else o.direction}",
            detail=o.get_result_display(),
            person=str(o.author or "—"),
            url=_item_url(o.item_id),
        )

    event_measure(
        code="recommendation_hit_rate",
        label=_("个股推荐成功率"),
        unit="%",
        direction=HIGHER,
        roles=(RESEARCHER,),
        kind="rate",
        num_label=_("达到目标价"),
        den_label=_("已有结果的推荐（达到目标、止损或到期）"),
        help=_("期内发布且已有结果的个股推荐中，达到目标价的比例。"),
        source="research",
        order=510,
        basis=Basis(
            model=Outcome,
            employee="author_id",
            day="published_on",
            day_is_date=True,
            branch_field="author__branch",
            base=lambda now: Q(result__in=[R.TARGET, R.STOP, R.EXPIRED]),
            num=Q(result=R.TARGET),
            select_related=("author", "security"),
            order_by=("published_on", "pk"),
        ),
        describe=describe_outcome,
    )
