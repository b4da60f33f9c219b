"""Off-site measures (客服专员): inquiry and complaint SLA rates, satisfaction and return-visit completion.
Reads ``branchcare.offsite`` models; loaded only when that app has models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .measures import HIGHER, TZ, Basis, DrillRow, event_measure

Inquiry = apps.get_model("offsite", "Inquiry")
ReturnVisit = apps.get_model("offsite", "ReturnVisit")
AGENT = "agent"
IS = Inquiry.State
OPEN_INQUIRY = [IS.NEW, IS.ASSIGNED, IS.IN_PROGRESS]


def _url(name: str, pk: Any) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def describe_inquiry(i: Any) -> DrillRow:
    return DrillRow(
        at=timezone.localtime(i.resolution_due) if i.resolution_due else timezone.localtime(i.created_at),
        title=f"{i.get_kind_display()} #{i.pk} · {i.subject}",
        detail=i.party_name,
        person=str(i.assignee or "—"),
        status=i.get_state_display(),
        url=_url("offsite:inquiry_detail", i.pk),
    )


def describe_return_visit(v: Any) -> DrillRow:
    return DrillRow(
        at=v.due_on,
        title=f"{v.rule} · {v.client}",
        person=str(v.assignee or "—"),
        status=v.get_state_display(),
        url=_url("offsite:revisit_detail", v.pk),
    )


INQ_RELATED = ("client", "assignee")

event_measure(
    code="inquiry_ontime",
    label=_("咨询投诉按时办结率"),
    unit="%",
    direction=HIGHER,
    roles=(AGENT,),
    kind="rate",
    num_label=_("按时办结"),
    den_label=_("期内到期（已办结或已超时）"),
    help=_("办结期限在期内的咨询与投诉中，在期限前解决的比例（计入经办人）。"),
    source="offsite",
    order=200,
    basis=Basis(
        model=Inquiry,
        employee="assignee_id",
        day="resolution_due",
        base=lambda now: ~Q(state=IS.CANCELLED) & (Q(resolved_at__isnull=False) | Q(resolution_due__lt=now)),
        num=Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due")),
        select_related=INQ_RELATED,
        order_by=("resolution_due", "pk"),
    ),
    describe=describe_inquiry,
)

event_measure(
    code="inquiry_first_response",
    label=_("首次响应及时率"),
    unit="%",
    direction=HIGHER,
    roles=(AGENT,),
    kind="rate",
    num_label=_("按时首次响应"),
    den_label=_("期内首次响应到期"),
    help=_("首次响应期限在期内的咨询与投诉中，按时首次响应的比例。"),
    source="offsite",
    order=210,
    basis=Basis(
        model=Inquiry,
        employee="assignee_id",
        day="first_response_due",
        base=lambda now: (
            ~Q(state=IS.CANCELLED) & (Q(first_responded_at__isnull=False) | Q(first_response_due__lt=now))
        ),
        num=Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due")),
        select_related=INQ_RELATED,
        order_by=("first_response_due", "pk"),
    ),
    describe=describe_inquiry,
)

event_measure(
    code="inquiry_satisfaction",
    label=_("客户满意度（咨询投诉回访）"),
    unit="分",
    direction=HIGHER,
    roles=(AGENT,),
    kind="mean",
    den_label=_("已做满意度调查的咨询投诉"),
    help=_("咨询与投诉办结后满意度调查的平均分。"),
    source="offsite",
    order=220,
    basis=Basis(
        model=Inquiry,
        employee="assignee_id",
        day="survey_at",
        base=lambda now: Q(survey_score__isnull=False),
        sum_field="survey_score",
        select_related=INQ_RELATED,
        order_by=("survey_at", "pk"),
    ),
    describe=describe_inquiry,
)


def _rv_decided(now: dt.datetime) -> Q:
    today = now.astimezone(TZ).date()
    RS = ReturnVisit.State
    return ~Q(state=RS.CANCELLED) & (Q(state__in=[RS.DONE, RS.UNREACHABLE]) | Q(due_on__lt=today))


event_measure(
    code="return_visit_completion",
    label=_("回访完成率"),
    unit="%",
    direction=HIGHER,
    roles=(AGENT,),
    kind="rate",
    num_label=_("已完成回访"),
    den_label=_("期内到期回访任务"),
    help=_("回访期限在期内的回访任务中，已完成（联系上并记录）的比例。"),
    source="offsite",
    order=230,
    basis=Basis(
        model=ReturnVisit,
        employee="assignee_id",
        day="due_on",
        day_is_date=True,
        base=_rv_decided,
        num=Q(state=ReturnVisit.State.DONE),
        select_related=("client", "assignee", "rule"),
        order_by=("due_on", "pk"),
    ),
    describe=describe_return_visit,
)
