"""The director's on-site dashboard (现场服务看板): per customer manager, today and this month — visits
and patrols done against plan, consultation orders open and overdue, on-time rate, median turnaround
and rework rate — and the records behind each figure.

Reads the on-site models directly (not the services that write them). Each metric is declared once
as a ``Q`` on one model; the figures are ``Count(filter=Q)`` aggregates grouped by manager (one query
per model, whatever the number of managers) and the drill-down lists the rows of the same ``Q``, so a
drill-down always lists exactly the records counted.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from branchcare.core.sla import CalendarRangeError, working_time_between
from branchcare.org.calendar import service_calendar_for
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User
from branchcare.org.scope import branches_for

from .models import ConsultationOrder, Patrol, PatrolPlanItem, Visit, VisitPlanItem

TZ = ZoneInfo("Asia/Shanghai")
PERIODS = {"today": _("今日"), "month": _("本月")}
OrderState = ConsultationOrder.State
OPEN_STATES = [OrderState.SUBMITTED, OrderState.IN_ANALYSIS, OrderState.ADVICE_READY, OrderState.ACCEPTED]


@dataclass(frozen=True)
class Period:
    key: str
    first: dt.date  # both days included
    last: dt.date
    now: dt.datetime

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(0), tzinfo=TZ)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), tzinfo=TZ)


def period_for(key: str, now: dt.datetime) -> Period:
    """今日 = today; 本月 = the first of the month up to and including today (local time)."""
    today = now.astimezone(TZ).date()
    if key == "today":
        return Period("today", today, today, now)
    if key == "month":
        return Period("month", today.replace(day=1), today, now)
    raise Http404


# --- metric declarations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any
    model: type[Model]
    manager_field: str  # path to the owning customer manager's id
    q: Callable[[Period], Q]  # the rows counted, as a Q on ``model``
    kind: str  # which drill-down table shows the rows: visits / plan_items / patrols / patrol_items / orders


def _in(field_name: str, p: Period) -> Q:
    return Q(**{f"{field_name}__gte": p.start, f"{field_name}__lt": p.end})


def _due(p: Period) -> Q:
    """Orders that came due in the period and are decided: delivered, or past the deadline by now."""
    return (
        _in("due_at", p)
        & ~Q(state=OrderState.CANCELLED)
        & (Q(delivered_at__isnull=False) | Q(due_at__lt=p.now))
    )


def _ontime(p: Period) -> Q:
    return _due(p) & Q(delivered_at__isnull=False, delivered_at__lte=F("due_at"))


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric(
            "visits_done",
            _("已完成计划拜访"),
            Visit,
            "manager_id",
            lambda p: _in("at", p) & Q(plan_item__isnull=False),
            "visits",
        ),
        Metric(
            "visits_planned",
            _("计划拜访"),
            VisitPlanItem,
            "plan__manager_id",
            lambda p: (
                Q(plan__date__gte=p.first, plan__date__lte=p.last) & ~Q(status=VisitPlanItem.Status.SWAPPED)
            ),
            "plan_items",
        ),
        Metric(
            "visits_unplanned",
            _("计划外拜访"),
            Visit,
            "manager_id",
            lambda p: _in("at", p) & Q(plan_item__isnull=True),
            "visits",
        ),
        Metric(
            "patrols_done",
            _("已完成计划巡视"),
            Patrol,
            "manager_id",
            lambda p: _in("at", p) & Q(plan_item__isnull=False),
            "patrols",
        ),
        Metric(
            "patrols_planned",
            _("计划巡视"),
            PatrolPlanItem,
            "plan__manager_id",
            lambda p: Q(plan__date__gte=p.first, plan__date__lte=p.last),
            "patrol_items",
        ),
        Metric(
            "patrols_unplanned",
            _("计划外巡视"),
            Patrol,
            "manager_id",
            lambda p: _in("at", p) & Q(plan_item__isnull=True),
            "patrols",
        ),
        Metric(
            "orders_open",
            _("在办咨询单"),
            ConsultationOrder,
            "manager_id",
            lambda p: Q(state__in=OPEN_STATES),
            "orders",
        ),
        Metric(
            "orders_overdue",
            _("逾期咨询单"),
            ConsultationOrder,
            "manager_id",
            lambda p: Q(state__in=OPEN_STATES, due_at__lt=p.now),
            "orders",
        ),
        Metric("orders_due", _("到期咨询单"), ConsultationOrder, "manager_id", _due, "orders"),
        Metric("orders_ontime", _("按时交付"), ConsultationOrder, "manager_id", _ontime, "orders"),
        Metric(
            "orders_late",
            _("超时"),
            ConsultationOrder,
            "manager_id",
            lambda p: _due(p) & ~(Q(delivered_at__isnull=False) & Q(delivered_at__lte=F("due_at"))),
            "orders",
        ),
        Metric(
            "orders_reviewed",
            _("已出意见"),
            ConsultationOrder,
            "manager_id",
            lambda p: _in("advice_ready_at", p),
            "orders",
        ),
        Metric(
            "orders_rework",
            _("被退回过"),
            ConsultationOrder,
            "manager_id",
            lambda p: _in("advice_ready_at", p) & Q(rework_count__gt=0),
            "orders",
        ),
    ]
}
SNAPSHOT_METRICS = {"orders_open", "orders_overdue"}  # the state now, the same for both periods


# --- figures -------------------------------------------------------------------------------------------


@dataclass
class ManagerFigures:
    manager: User
    counts: dict[str, int] = field(default_factory=dict)
    turnaround_hours: float | None = None  # median submitted → advice ready, in service hours

    def __getattr__(self, name: str) -> Any:  # template access: row.visits_done
        counts = self.__dict__.get("counts", {})
        if name in counts:
            return counts[name]
        raise AttributeError(name)

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return round(num / den * 100, 2) if den else None

    @property
    def ontime_rate(self) -> float | None:
        """按时交付 / 到期咨询单, %."""
        return self._rate(self.counts.get("orders_ontime", 0), self.counts.get("orders_due", 0))

    @property
    def rework_rate(self) -> float | None:
        """被退回过 / 已出意见, %."""
        return self._rate(self.counts.get("orders_rework", 0), self.counts.get("orders_reviewed", 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.counts,
            "ontime_rate": self.ontime_rate,
            "rework_rate": self.rework_rate,
            "median_turnaround_hours": self.turnaround_hours,
        }


@dataclass
class Dashboard:
    branch: Branch
    now: dt.datetime
    periods: dict[str, Period]
    managers: list[User]
    figures: dict[str, list[ManagerFigures]]  # period key -> one row per manager (same order)

    def totals(self, period: str) -> ManagerFigures:
        total = ManagerFigures(manager=User(name=str(_("合计"))))
        for row in self.figures[period]:
            for key, value in row.counts.items():
                total.counts[key] = total.counts.get(key, 0) + value
        total.turnaround_hours = self.median_all.get(period)
        return total

    median_all: dict[str, float | None] = field(default_factory=dict)


def dashboard_branches(user: User) -> QuerySet[Branch]:
    """The branches whose dashboard ``user`` may open (Cap.SUPERVISE; company scope: every branch)."""
    return branches_for(user, Cap.SUPERVISE).order_by("code")


def dashboard_branch_for(*, viewer: User, branch_id: Any = None) -> Branch:
    """The branch asked for (404 when not the viewer's to supervise), else the viewer's own, else the
    first they supervise."""
    branches = dashboard_branches(viewer)
    if branch_id not in (None, ""):
        try:
            found = branches.filter(pk=int(branch_id)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise Http404
        return found
    own = branches.filter(pk=viewer.branch_id).first() if viewer.branch_id else None
    found = own or branches.first()
    if found is None:
        raise Http404
    return found


def branch_managers(branch: Branch) -> list[User]:
    """The branch's active customer managers (staff whose roles carry Cap.ONSITE_SERVE)."""
    role_ids = [
        pk for pk, caps in Role.objects.values_list("pk", "capabilities") if Cap.ONSITE_SERVE in (caps or [])
    ]
    return list(
        User.objects.filter(branch=branch, is_active=True, roles__in=role_ids).distinct().order_by("username")
    )


def _turnarounds(
    branch: Branch, manager_ids: list[int], periods: dict[str, Period]
) -> tuple[dict[str, dict[int, float | None]], dict[str, float | None]]:
    """Median hours from submission to advice ready per manager and overall, per period. Service hours
    of the branch's standard (the unit of the consultation deadline); wall-clock hours for an order the
    calendar cannot measure."""
    widest = periods["month"] if "month" in periods else next(iter(periods.values()))
    rows = list(
        ConsultationOrder.objects.filter(
            branch=branch, manager_id__in=manager_ids, submitted_at__isnull=False
        )
        .filter(_in("advice_ready_at", widest))
        .values_list("manager_id", "submitted_at", "advice_ready_at")
    )
    cal = service_calendar_for(branch, widest.last) if rows else None
    per: dict[str, dict[int, list[float]]] = {k: defaultdict(list) for k in periods}
    for manager_id, submitted, ready in rows:
        if submitted is None or ready is None:
            continue
        try:
            if cal is None:
                raise CalendarRangeError(ready.date(), None)
            hours = working_time_between(cal, submitted, ready).total_seconds() / 3600
        except CalendarRangeError:
            hours = max((ready - submitted).total_seconds(), 0) / 3600
        for key, p in periods.items():
            if p.start <= ready < p.end:
                per[key][manager_id].append(hours)
    by_manager = {k: {m: round(statistics.median(v), 2) for m, v in per[k].items()} for k in periods}
    overall = {
        k: round(statistics.median(all_), 2) if (all_ := [h for v in per[k].values() for h in v]) else None
        for k in periods
    }
    return by_manager, overall  # type: ignore[return-value]


def onsite_dashboard(*, branch: Branch, now: dt.datetime) -> Dashboard:
    """Every manager's figures for today and this month: a bounded number of queries (the managers, one
    aggregate per model, the turnaround rows and the calendar), independent of the number of managers."""
    periods = {key: period_for(key, now) for key in PERIODS}
    managers = branch_managers(branch)
    ids = [m.pk for m in managers]
    counts: dict[str, dict[int, dict[str, int]]] = {k: defaultdict(dict) for k in periods}
    by_model: dict[type[Model], list[Metric]] = defaultdict(list)
    for metric in METRICS.values():
        by_model[metric.model].append(metric)
    for model, metrics in by_model.items():
        if not ids:
            break
        manager_field = metrics[0].manager_field
        branch_field = "plan__branch" if manager_field.startswith("plan__") else "branch"
        rows_q = Q()
        annotations = {}
        for metric in metrics:
            for key, p in periods.items():
                q = metric.q(p)
                rows_q |= q
                annotations[f"{key}_{metric.key}"] = Count("pk", filter=q)
        rows = (
            model._default_manager.filter(**{branch_field: branch, f"{manager_field}__in": ids})
            .filter(rows_q)
            .values(manager_field)
            .annotate(**annotations)
            .order_by()
        )
        for row in rows:
            manager_id = row[manager_field]
            for name, value in row.items():
                if name != manager_field:
                    period_key, metric_key = name.split("_", 1)
                    counts[period_key][manager_id][metric_key] = value
    turnaround, overall = _turnarounds(branch, ids, periods) if ids else ({k: {} for k in periods}, {})
    figures = {
        key: [
            ManagerFigures(
                manager=m,
                counts={metric: counts[key][m.pk].get(metric, 0) for metric in METRICS},
                turnaround_hours=turnaround[key].get(m.pk),
            )
            for m in managers
        ]
        for key in periods
    }
    return Dashboard(
        branch=branch,
        now=now,
        periods=periods,
        managers=managers,
        figures=figures,
        median_all={k: overall.get(k) for k in periods},
    )


# --- drill-down ----------------------------------------------------------------------------------------


def drill_records(
    *, branch: Branch, manager_id: Any, metric: str, period: str, now: dt.datetime
) -> tuple[Metric, User, QuerySet]:
    """The records behind one figure: ``metric`` of one manager of ``branch`` in ``period``. 404 for an
    unknown metric or period, or a manager who is not one of the branch's customer managers."""
    spec = METRICS.get(metric)
    if spec is None:
        raise Http404
    p = period_for(period, now)
    try:
        mid = int(manager_id)
    except (TypeError, ValueError):
        raise Http404 from None
    manager = next((m for m in branch_managers(branch) if m.pk == mid), None)
    if manager is None:
        raise Http404
    branch_field = "plan__branch" if spec.manager_field.startswith("plan__") else "branch"
    qs = spec.model._default_manager.filter(**{branch_field: branch, spec.manager_field: mid}).filter(
        spec.q(p)
    )
    if spec.kind == "visits":
        qs = qs.select_related("client", "plan_item").order_by("-at")
    elif spec.kind == "patrols":
        qs = qs.select_related("room").order_by("-at")
    elif spec.kind == "plan_items":
        qs = qs.select_related("client", "plan").order_by("-plan__date", "rank")
    elif spec.kind == "patrol_items":
        qs = qs.select_related("room", "plan").order_by("-plan__date", "round_no")
    else:
        qs = qs.select_related("client", "consultant").order_by("due_at", "pk")
    return spec, manager, qs
