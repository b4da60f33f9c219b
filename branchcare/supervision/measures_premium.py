"""Premium-service measures (经纪人): the 24×7 desk's request SLA rates. Reads ``branchcare.premium``."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .measures import HIGHER, Basis, DrillRow, event_measure

PremiumRequest = apps.get_model("premium", "PremiumRequest")
BROKER = "broker"
PS = PremiumRequest.State
OPEN_REQUEST = [PS.NEW, PS.IN_PROGRESS, PS.AWAITING_RESEARCH, PS.ANSWERED]


def describe_request(r: Any) -> DrillRow:
    try:
        url = reverse("premium:request_detail", args=[r.pk])
    except NoReverseMatch:
        url = ""
    return DrillRow(
        at=timezone.localtime(r.resolution_due),
        title=f"高端请求 #{r.pk} · {r.client}",
        person=str(r.broker),
        status=r.get_state_display(),
        url=url,
    )


event_measure(
    code="premium_ontime",
    label=_("高端请求按时办结率"),
    unit="%",
    direction=HIGHER,
    roles=(BROKER,),
    kind="rate",
    num_label=_("按时办结"),
    den_label=_("期内到期（已办结或已超时）"),
    help=_("办结期限在期内的高端客户请求中，按时办结的比例（计入专属经纪人）。"),
    source="premium",
    order=300,
    basis=Basis(
        model=PremiumRequest,
        employee="broker_id",
        day="resolution_due",
        base=lambda now: Q(resolved_at__isnull=False) | Q(resolution_due__lt=now),
        num=Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due")),
        select_related=("client", "broker"),
        order_by=("resolution_due", "pk"),
    ),
    describe=describe_request,
)

event_measure(
    code="premium_first_response",
    label=_("高端请求首次响应及时率"),
    unit="%",
    direction=HIGHER,
    roles=(BROKER,),
    kind="rate",
    num_label=_("按时首次响应"),
    den_label=_("期内首次响应到期"),
    help=_("首次响应期限在期内的高端客户请求中，按时响应的比例。"),
    source="premium",
    order=310,
    basis=Basis(
        model=PremiumRequest,
        employee="broker_id",
        day="first_response_due",
        base=lambda now: Q(responded_at__isnull=False) | Q(first_response_due__lt=now),
        num=Q(responded_at__isnull=False, responded_at__lte=F("first_response_due")),
        select_related=("client", "broker"),
        order_by=("first_response_due", "pk"),
    ),
    describe=describe_request,
)
