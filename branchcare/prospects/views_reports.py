"""The development reports page (ECharts, data passed with json_script)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from branchcare.org.typing import AuthedRequest

from . import selectors_reports as rep
from .views import require_prospects


@login_required
@require_prospects
def reports(request: AuthedRequest) -> HttpResponse:
    """Funnel by source and segment, conversion, partner league table and owner performance."""
    period = rep.period_for(request.GET.get("period"))
    data = rep.report(viewer=request.user, period=period)
    list_url = reverse("prospects:list")
    return render(
        request,
        "prospects/reports.html",
        {
            "r": data,
            "period": period,
            "periods": rep.PERIODS,
            "chart_data": rep.chart_data(data, urls={"list": list_url}),
            "funnel_rows": list(zip(data["stages"], data["overall"], strict=True)),
        },
    )
