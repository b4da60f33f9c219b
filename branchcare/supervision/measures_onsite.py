"""On-site measures: visits and patrols against plan and quota, book coverage by tier interval, the
consultation pipeline (on-time rate, lateness held, median turnaround, rework, quality ratings in both
directions) and overdue follow-ups. Reads the on-site models; writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchcare.clients.models import Client
from branchcare.core.sla import CalendarRangeError, working_time_between
from branchcare.onsite.models import ConsultationOrder, FollowUp, Patrol, Visit, VisitPlan, VisitPlanItem
from branchcare.org.calendar import service_calendar_for, standard_for

from .measures import (
    HIGHER,
    LOWER,
    TZ,
    Basis,
    DrillRow,
    Measure,
    MeasureRow,
    day_end,
    event_measure,
    register,
)

MANAGER = "manager"
CONSULTANT = "consultant"
OrderState = ConsultationOrder.State


def _url(name: str, pk: Any) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value else None


# --- how each kind of record shows in a drill-down ----------------------------------------------------------


def describe_order(o: ConsultationOrder) -> DrillRow:
    return DrillRow(
        at=_local(o.due_at) or _local(o.created_at),
        title=f"咨询单 #{o.pk} · {o.client}",
        detail=o.question[:80],
        person=f"{o.manager} / {o.consultant or '—'}",
        status=o.get_state_display(),
        url=_url("onsite:consultation_detail", o.pk),
    )


def describe_visit(v: Visit) -> DrillRow:
    return DrillRow(
        at=_local(v.at),
        title=f"{v.client} · {v.topic}",
        detail=str(_("计划内")) if v.plan_item_id else str(_("计划外")),
        person=str(v.manager),
        url=_url("onsite:visit_detail", v.pk),
    )


def describe_patrol(p: Patrol) -> DrillRow:
    return DrillRow(
        at=_local(p.at),
        title=str(p.room),
        detail=(p.observations or "")[:80],
        person=str(p.manager),
        url=_url("onsite:patrol_detail", p.pk),
    )


def describe_plan_item(i: VisitPlanItem) -> DrillRow:
    return DrillRow(
        at=i.plan.date, title=str(i.client), detail=f"#{i.rank}", person=str(i.plan.manager),
        status=i.get_status_display(),
    )  # fmt: skip


def describe_followup(f: FollowUp) -> DrillRow:
    return DrillRow(
        at=f.due_on,
        title=f.description[:60],
        detail=f.get_kind_display(),
        person=str(f.owner),
        status=f.get_state_display(),
        url=reverse("onsite:followups"),
    )


def describe_client(c: Client) -> DrillRow:
    return DrillRow(
        at=_local(getattr(c, "last_visit_at", None)),
        title=f"{c.client_no} {c.name}",
        detail=c.get_tier_display(),
        person=str(c.manager) if c.manager_id else "",
        url=_url("clients:detail", c.pk),
    )


def describe_plan(p: VisitPlan) -> DrillRow:
    return DrillRow(
        at=p.date,
        title=str(_("当日计划")),
        detail=str(_("拜访定额 %(v)s，巡视定额 %(p)s") % {"v": p.visits_quota, "p": p.patrols_quota}),
        person=str(p.manager),
    )


# --- plan and quota ------------------------------------------------------------------------------------------

event_measure(
    code="visit_completion",
    label=_("计划拜访完成率"),
    unit="%",
    direction=HIGHER,
    roles=(MANAGER,),
    kind="rate",
    num_label=_("已完成计划拜访"),
    den_label=_("计划拜访（不含已调换）"),
    help=_("当日计划中已拜访的客户 ÷ 计划客户（调换掉的不计）。"),
    order=10,
    basis=Basis(
        model=VisitPlanItem,
        employee="plan__manager_id",
        day="plan__date",
        day_is_date=True,
        branch_field="plan__branch",
        base=lambda now: ~Q(status=VisitPlanItem.Status.SWAPPED),
        num=Q(status=VisitPlanItem.Status.DONE),
        select_related=("client", "plan__manager"),
        order_by=("-plan__date", "plan__manager_id", "rank"),
    ),
    describe=describe_plan_item,
)


def _quota_measure(
    code: str, label: Any, model: type, quota_field: str, describe: Any, order: int
) -> Measure:
    """Records done (all of them, planned or not) against the day's quota from the plan."""
    basis = Basis(
        model=model,
        employee="manager_id",
        day="at",
        select_related=("client", "manager") if model is Visit else ("room", "manager"),
        order_by=("-at",),
    )

    def compute(branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> Iterator[MeasureRow]:
        done: dict[tuple[int, dt.date], float] = {
            (r.employee_id, r.date): r.numerator for r in basis.compute(branch, first, last, now)
        }
        quotas = {
            (m, d): float(q or 0)
            for m, d, q in VisitPlan.objects.filter(
                branch=branch, date__gte=first, date__lte=last
            ).values_list("manager_id", "date", quota_field)
        }
        for key in set(done) | set(quotas):
            yield MeasureRow(key[0], key[1], done.get(key, 0.0), quotas.get(key, 0.0))

    def drill(*, branch: Any, employee_ids: Sequence[int], first: dt.date, last: dt.date, part: str,
              now: dt.datetime) -> QuerySet:  # fmt: skip
        if part == "den":
            return (
                VisitPlan.objects.filter(
                    branch=branch, manager_id__in=list(employee_ids), date__gte=first, date__lte=last
                )
                .select_related("manager")
                .order_by("-date", "manager_id")
            )
        return basis.drill(
            branch=branch, employee_ids=employee_ids, first=first, last=last, part=part, now=now
        )

    return register(
        Measure(
            code=code,
            label=label,
            unit="%",
            direction=HIGHER,
            roles=(MANAGER,),
            kind="rate",
            compute=compute,
            drill=drill,
            describe=lambda obj: describe_plan(obj) if isinstance(obj, VisitPlan) else describe(obj),
            num_label=_("实际完成（含计划外）"),
            den_label=_("定额（来自当日计划）"),
            drill_parts=("num",),
            help=_("当日实际完成次数（含计划外）÷ 服务标准定额；定额以当日计划为准。"),
            order=order,
        )
    )


_quota_measure("visits_vs_quota", _("拜访定额达成率"), Visit, "visits_quota", describe_visit, 20)
_quota_measure("patrols_vs_quota", _("巡视定额达成率"), Patrol, "patrols_quota", describe_patrol, 40)

event_measure(
    code="visits_unplanned",
    label=_("计划外拜访"),
    unit="次",
    direction=HIGHER,
    roles=(MANAGER,),
    kind="count",
    num_label=_("计划外拜访"),
    help=_("不在当日计划中的拜访次数（主动联系）。"),
    order=30,
    basis=Basis(
        model=Visit,
        employee="manager_id",
        day="at",
        num=Q(plan_item__isnull=True),
        select_related=("client", "manager"),
        order_by=("-at",),
    ),
    describe=describe_visit,
)


event_measure(
    code="visit_satisfaction",
    label=_("客户满意度（拜访）"),
    unit="分",
    direction=HIGHER,
    roles=(MANAGER,),
    kind="mean",
    den_label=_("记录了满意度的拜访"),
    help=_("拜访记录中客户满意度（1–5）的平均分。"),
    order=35,
    basis=Basis(
        model=Visit,
        employee="manager_id",
        day="at",
        base=lambda now: Q(satisfaction__isnull=False),
        sum_field="satisfaction",
        select_related=("client", "manager"),
        order_by=("-at",),
    ),
    describe=describe_visit,
)


# --- book coverage by tier interval (a snapshot per day) ---------------------------------------------------


def _covered_q(branch: Any, as_of: dt.date) -> Q:
    """Clients with a visit within their tier's contact interval up to the end of ``as_of``."""
    standard = standard_for(branch, as_of)
    end = day_end(as_of)
    q = Q()
    for tier in (Client.Tier.LARGE, Client.Tier.MEDIUM, Client.Tier.SMALL):
        start = end - dt.timedelta(days=standard.contact_interval_days(tier))
        recent = Visit.objects.filter(client=OuterRef("pk"), at__gte=start, at__lt=end)
        q |= Q(Q(tier=tier), Exists(recent))
    return q


def _book(branch: Any) -> QuerySet:
    return Client.objects.filter(branch=branch, status=Client.Status.ACTIVE, manager__isnull=False)


def coverage_compute(branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> Iterator[MeasureRow]:
    """One grouped query per day: per manager, the active book and how much of it was contacted within
    its tier's interval as of that day."""
    day = first
    while day <= last:
        rows = (
            _book(branch)
            .values("manager_id")
            .annotate(_den=Count("pk"), _num=Count("pk", filter=_covered_q(branch, day)))
            .order_by()
        )
        for r in rows:
            yield MeasureRow(r["manager_id"], day, float(r["_num"]), float(r["_den"]))
        day += dt.timedelta(days=1)


def coverage_drill(*, branch: Any, employee_ids: Sequence[int], first: dt.date, last: dt.date, part: str,
                   now: dt.datetime) -> QuerySet:  # fmt: skip
    """The book as of ``last`` (the snapshot day): all of it (den) or the clients covered (num)."""
    qs = _book(branch).filter(manager_id__in=list(employee_ids)).select_related("manager")
    if part == "num":
        qs = qs.filter(_covered_q(branch, last))
    elif part == "uncovered":
        qs = qs.exclude(_covered_q(branch, last))
    return qs.order_by("manager_id", "client_no")


register(
    Measure(
        code="book_coverage",
        label=_("客户联系覆盖率"),
        unit="%",
        direction=HIGHER,
        roles=(MANAGER,),
        kind="rate",
        compute=coverage_compute,
        drill=coverage_drill,
        describe=describe_client,
        num_label=_("在层级联系间隔内已拜访"),
        den_label=_("名下正常客户"),
        aggregate="last",
        help=_("名下正常客户中，在其层级最长联系间隔（服务标准）内有拜访的比例；取期末当日的值。"),
        order=50,
    )
)


# --- the consultation pipeline --------------------------------------------------------------------------------


def _decided(now: dt.datetime) -> Q:
    """Orders whose on-time question is settled: delivered, or past the deadline by now."""
    return ~Q(state=OrderState.CANCELLED) & (Q(delivered_at__isnull=False) | Q(due_at__lt=now))


ORDER_RELATED = ("client", "manager", "consultant")

event_measure(
    code="consult_ontime",
    label=_("咨询准时率"),
    unit="%",
    direction=HIGHER,
    roles=(CONSULTANT,),
    kind="rate",
    num_label=_("按时交付"),
    den_label=_("到期咨询单（已交付或已超时）"),
    help=_("期内到期的咨询单中，在办理期限前交付的比例（计入负责的投资顾问）。"),
    order=60,
    basis=Basis(
        model=ConsultationOrder,
        employee="consultant_id",
        day="due_at",
        base=_decided,
        num=Q(delivered_at__isnull=False, delivered_at__lte=F("due_at")),
        select_related=ORDER_RELATED,
        order_by=("due_at", "pk"),
    ),
    describe=describe_order,
)

event_measure(
    code="orders_late_held",
    label=_("逾期咨询单（经办）"),
    unit="张",
    direction=LOWER,
    roles=(MANAGER, CONSULTANT),
    kind="count",
    num_label=_("逾期时由本人经办"),
    help=_("期内到期、逾期时由本人经办的咨询单（流程记录认定的经办人）。"),
    order=70,
    basis=Basis(
        model=ConsultationOrder,
        employee="late_holder_id",
        day="due_at",
        select_related=ORDER_RELATED,
        order_by=("due_at", "pk"),
    ),
    describe=describe_order,
)

_turnaround_basis = Basis(
    model=ConsultationOrder,
    employee="consultant_id",
    day="advice_ready_at",
    base=lambda now: Q(submitted_at__isnull=False),
    select_related=ORDER_RELATED,
    order_by=("advice_ready_at", "pk"),
)


def turnaround_compute(branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> Iterator[MeasureRow]:
    """Hours from submission to advice ready, in the branch's service hours (wall-clock hours when the
    calendar cannot measure an order), as samples per consultant and day."""
    rows = list(
        _turnaround_basis.queryset(branch=branch, first=first, last=last, now=now).values_list(
            "consultant_id", "submitted_at", "advice_ready_at"
        )
    )
    if not rows:
        return
    cal = service_calendar_for(branch, last)
    samples: dict[tuple[int, dt.date], list[float]] = defaultdict(list)
    for consultant_id, submitted, ready in rows:
        try:
            hours = working_time_between(cal, submitted, ready).total_seconds() / 3600
        except CalendarRangeError:
            hours = max((ready - submitted).total_seconds(), 0) / 3600
        samples[(consultant_id, ready.astimezone(TZ).date())].append(round(hours, 4))
    for (consultant_id, day), hours_list in samples.items():
        yield MeasureRow(consultant_id, day, sum(hours_list), float(len(hours_list)), tuple(hours_list))


register(
    Measure(
        code="turnaround_median",
        label=_("咨询处理时长中位数"),
        unit="小时",
        direction=LOWER,
        roles=(CONSULTANT,),
        kind="median",
        compute=turnaround_compute,
        drill=_turnaround_basis.drill,
        describe=describe_order,
        den_label=_("期内出具意见的咨询单"),
        drill_parts=("den",),
        help=_("提交至出具意见的服务时段小时数的中位数。"),
        order=80,
    )
)

event_measure(
    code="rework_rate",
    label=_("意见退回率"),
    unit="%",
    direction=LOWER,
    roles=(CONSULTANT,),
    kind="rate",
    num_label=_("被退回过"),
    den_label=_("期内出具意见"),
    help=_("期内出具意见的咨询单中，被客户经理退回修改过的比例。"),
    order=90,
    basis=Basis(
        model=ConsultationOrder,
        employee="consultant_id",
        day="advice_ready_at",
        num=Q(rework_count__gt=0),
        select_related=ORDER_RELATED,
        order_by=("advice_ready_at", "pk"),
    ),
    describe=describe_order,
)

event_measure(
    code="advice_rating",
    label=_("意见质量评分（客户经理评）"),
    unit="分",
    direction=HIGHER,
    roles=(CONSULTANT,),
    kind="mean",
    den_label=_("已评分的交付咨询单"),
    help=_("客户经理对投资顾问意见质量的平均评分（1–5）。"),
    order=100,
    basis=Basis(
        model=ConsultationOrder,
        employee="consultant_id",
        day="delivered_at",
        base=lambda now: Q(manager_rating__isnull=False),
        sum_field="manager_rating",
        select_related=ORDER_RELATED,
        order_by=("delivered_at", "pk"),
    ),
    describe=describe_order,
)

event_measure(
    code="order_rating",
    label=_("咨询单完整度评分（投顾评）"),
    unit="分",
    direction=HIGHER,
    roles=(MANAGER,),
    kind="mean",
    den_label=_("已评分的交付咨询单"),
    help=_("投资顾问对客户经理所填咨询单完整度的平均评分（1–5）。"),
    order=110,
    basis=Basis(
        model=ConsultationOrder,
        employee="manager_id",
        day="delivered_at",
        base=lambda now: Q(consultant_rating__isnull=False),
        sum_field="consultant_rating",
        select_related=ORDER_RELATED,
        order_by=("delivered_at", "pk"),
    ),
    describe=describe_order,
)


# --- follow-ups ----------------------------------------------------------------------------------------------


def _followup_late(now: dt.datetime) -> Q:
    """Not done by the end of its due day: still open after it, or done on a later day."""
    today = now.astimezone(TZ).date()
    return Q(state=FollowUp.State.OPEN, due_on__lt=today) | Q(_done_day__gt=F("due_on"))


event_measure(
    code="followups_overdue",
    label=_("逾期跟进事项"),
    unit="件",
    direction=LOWER,
    roles=(MANAGER,),
    kind="count",
    num_label=_("到期未按时完成"),
    help=_("期内到期、未在完成期限当天完成的跟进事项。"),
    order=120,
    basis=Basis(
        model=FollowUp,
        employee="owner_id",
        day="due_on",
        day_is_date=True,
        base=_followup_late,
        annotations=lambda: {"_done_day": TruncDate("done_at", tzinfo=TZ)},
        select_related=("owner",),
        order_by=("due_on", "pk"),
    ),
    describe=describe_followup,
)


# --- risk assessments expired (a snapshot per day) -------------------------------------------------------


def expired_q(as_of: dt.date) -> Q:
    """Risk assessment missing, or older than the configured validity on ``as_of``."""
    cutoff = as_of - dt.timedelta(days=settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"])
    return Q(risk_assessed_on__isnull=True) | Q(risk_assessed_on__lt=cutoff)


def expired_compute(branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> Iterator[MeasureRow]:
    day = first
    while day <= last:
        rows = (
            _book(branch)
            .values("manager_id")
            .annotate(_den=Count("pk"), _num=Count("pk", filter=expired_q(day)))
            .order_by()
        )
        for r in rows:
            yield MeasureRow(r["manager_id"], day, float(r["_num"]), float(r["_den"]))
        day += dt.timedelta(days=1)


def expired_drill(*, branch: Any, employee_ids: Sequence[int], first: dt.date, last: dt.date, part: str,
                  now: dt.datetime) -> QuerySet:  # fmt: skip
    qs = _book(branch).filter(manager_id__in=list(employee_ids)).select_related("manager")
    if part == "num":
        qs = qs.filter(expired_q(last))
    return qs.order_by("manager_id", "risk_assessed_on", "client_no")


register(
    Measure(
        code="risk_expired",
        label=_("风险测评过期客户"),
        unit="户",
        direction=LOWER,
        roles=(MANAGER,),
        kind="count",
        compute=expired_compute,
        drill=expired_drill,
        describe=describe_client,
        num_label=_("风险测评过期或缺失"),
        den_label=_("名下正常客户"),
        aggregate="last",
        help=_("名下正常客户中风险测评缺失或已过有效期的户数；取期末当日的值。"),
        order=55,
    )
)
