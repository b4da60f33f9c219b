"""Prospect-development measures (经纪人): prospects converted to clients and the assets they brought in.
Reads ``branchcare.prospects``."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .measures import HIGHER, Basis, DrillRow, event_measure

Prospect = apps.get_model("prospects", "Prospect")
BROKER = "broker"


def describe_prospect(p: Any) -> DrillRow:
    try:
        url = reverse("prospects:detail", args=[p.pk])
    except NoReverseMatch:
        url = ""
    assets = getattr(p.client, "total_assets", None) if p.client_id else None
    return DrillRow(
        at=timezone.localtime(p.converted_at) if p.converted_at else None,
        title=str(p),
        detail=f"开户客户 {p.client}" + (f"，资产 {assets / 10000:,.2f} 万元" if assets else ""),
        person=str(p.credited_owner or "—"),
        url=url,
    )


_converted = Basis(
    model=Prospect,
    employee="credited_owner_id",
    day="converted_at",
    base=lambda now: Q(client__isnull=False),
    select_related=("client", "credited_owner"),
    order_by=("converted_at", "pk"),
)

event_measure(
    code="prospects_converted",
    label=_("潜客开户数"),
    unit="户",
    direction=HIGHER,
    roles=(BROKER,),
    kind="count",
    num_label=_("期内开户的潜在客户"),
    help=_("期内开户（转化为客户）的潜在客户数，计入业绩归属人。"),
    source="prospects",
    order=400,
    basis=_converted,
    describe=describe_prospect,
)

event_measure(
    code="prospects_assets",
    label=_("潜客带来资产"),
    unit="万元",
    direction=HIGHER,
    roles=(BROKER,),
    kind="mean",
    den_label=_("期内开户的潜在客户"),
    help=_("期内开户的潜在客户的平均资产（万元，按客户当前资产）。"),
    source="prospects",
    order=410,
    basis=Basis(
        model=Prospect,
        employee="credited_owner_id",
        day="converted_at",
        base=lambda now: Q(client__isnull=False),
        sum_field="client__total_assets",
        select_related=("client", "credited_owner"),
        order_by=("converted_at", "pk"),
    ),
    describe=describe_prospect,
    scale=0.0001,
)
