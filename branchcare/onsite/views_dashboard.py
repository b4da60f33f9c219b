"""现场服务看板: the director's live view of every customer manager's on-site work (ECharts bars and
the same figures in a table), and the drill-down from any figure to the records behind it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.typing import AuthedRequest

from .selectors_dashboard import (
    METRICS,
    PERIODS,
    Dashboard,
    dashboard_branch_for,
    dashboard_branches,
    drill_records,
    onsite_dashboard,
)

DRILL_LIMIT = 500

# The four charts: (element id, title, unit, [(series label, metric key or rate, drill metric)]).
CHARTS: list[tuple[str, Any, Any, list[tuple[Any, str, str]]]] = [
    (
        "chart-visits",
        _l("拜访完成情况"),
        _l("次"),
        [
            (_l("计划拜访"), "visits_planned", "visits_planned"),
            (_l("已完成计划拜访"), "visits_done", "visits_done"),
            (_l("计划外拜访"), "visits_unplanned", "visits_unplanned"),
        ],
    ),
    (
        "chart-patrols",
        _l("巡视完成情况"),
        _l("次"),
        [
            (_l("计划巡视"), "patrols_planned", "patrols_planned"),
            (_l("已完成计划巡视"), "patrols_done", "patrols_done"),
            (_l("计划外巡视"), "patrols_unplanned", "patrols_unplanned"),
        ],
    ),
    (
        "chart-orders",
        _l("咨询单（当前）"),
        _l("张"),
        [
            (_l("在办咨询单"), "orders_open", "orders_open"),
            (_l("逾期咨询单"), "orders_overdue", "orders_overdue"),
        ],
    ),
    (
        "chart-quality",
        _l("准时率与退回率"),
        "%",
        [(_l("准时率"), "ontime_rate", "orders_due"), (_l("退回率"), "rework_rate", "orders_reviewed")],
    ),
]


def drill_url(*, branch_id: int, manager_id: int, metric: str, period: str) -> str:
    query = urlencode({"branch": branch_id, "manager": manager_id, "metric": metric, "period": period})
    return f"{reverse('onsite:dashboard_drill')}?{query}"


def chart_data(dash: Dashboard, period: str) -> dict[str, Any]:
    """What dashboard.js draws: manager names, and per chart its series with a drill-down URL per bar."""
    rows = dash.figures[period]
    charts = []
    for element_id, title, unit, series in CHARTS:
        charts.append(
            {
                "id": element_id,
                "title": str(title),
                "unit": str(unit),
                "series": [
                    {
                        "name": str(label),
                        "metric": drill,
                        "data": [
                            getattr(row, key) if key.endswith("_rate") else row.counts.get(key, 0)
                            for row in rows
                        ],
                        "urls": [
                            drill_url(
                                branch_id=dash.branch.pk,
                                manager_id=row.manager.pk,
                                metric=drill,
                                period=period,
                            )
                            for row in rows
                        ],
                    }
                    for label, key, drill in series
                ],
            }
        )
    return {"managers": [str(row.manager) for row in rows], "charts": charts}


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def dashboard_view(request: AuthedRequest) -> HttpResponse:
    branch = dashboard_branch_for(viewer=request.user, branch_id=request.GET.get("branch"))
    period = str(request.GET.get("period") or "")
    if period not in PERIODS:
        period = "today"
    now = timezone.now()
    dash = onsite_dashboard(branch=branch, now=now)
    rows = dash.figures[period]
    table = [
        {
            "row": row,
            "urls": {
                key: drill_url(branch_id=branch.pk, manager_id=row.manager.pk, metric=key, period=period)
                for key in METRICS
            },
        }
        for row in rows
    ]
    branches = (
        list(dashboard_branches(request.user)) if request.user.scope_for(Cap.SUPERVISE) == "company" else []
    )
    return render(
        request,
        "onsite/dashboard/dashboard.html",
        {
            "dash": dash,
            "branch": branch,
            "branches": branches,
            "period": period,
            "periods": PERIODS,
            "period_obj": dash.periods[period],
            "table": table,
            "totals": dash.totals(period),
            "chart_data": chart_data(dash, period),
            "now": now,
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def dashboard_drill_view(request: AuthedRequest) -> HttpResponse:
    """The records behind one figure: ``manager`` × ``metric`` × ``period`` (今日 / 本月)."""
    branch = dashboard_branch_for(viewer=request.user, branch_id=request.GET.get("branch"))
    now = timezone.now()
    period = request.GET.get("period", "")
    spec, manager, qs = drill_records(
        branch=branch,
        manager_id=request.GET.get("manager"),
        metric=request.GET.get("metric", ""),
        period=period,
        now=now,
    )
    records = list(qs[: DRILL_LIMIT + 1])
    return render(
        request,
        "onsite/dashboard/drill.html",
        {
            "branch": branch,
            "spec": spec,
            "manager": manager,
            "period": period,
            "period_label": PERIODS[period],
            "records": records[:DRILL_LIMIT],
            "count": qs.count() if len(records) > DRILL_LIMIT else len(records),
            "truncated": len(records) > DRILL_LIMIT,
            "now": now,
            "back": f"{reverse('onsite:dashboard')}?{urlencode({'branch': branch.pk, 'period': period})}",
        },
    )
