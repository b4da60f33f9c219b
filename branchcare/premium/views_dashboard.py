"""高端服务看板 (director): ECharts of request volume, response and resolution times against the 24×7
targets, retention and satisfaction per broker, with the same figures in a table."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.scope import branches_for
from branchcare.org.typing import AuthedRequest

from .selectors_dashboard import PERIOD_DAYS, chart_data, dashboard_branch_for, premium_dashboard


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    branch = dashboard_branch_for(viewer=request.user, branch_id=request.GET.get("branch"))
    now = timezone.now()
    d = premium_dashboard(branch=branch, now=now)
    branches = (
        list(branches_for(request.user, Cap.SUPERVISE))
        if request.user.scope_for(Cap.SUPERVISE) == "company"
        else []
    )
    return render(
        request,
        "premium/dashboard.html",
        {
            "d": d,
            "totals": d.totals,
            "branch": branch,
            "branches": branches,
            "chart_data": chart_data(d),
            "now": now,
            "period_days": PERIOD_DAYS,
        },
    )
