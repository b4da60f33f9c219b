"""On-site service pages. Each part (plans/visits/patrols, consultations, meetings, dashboard) has
its own urls module included here, so the parts can be built independently."""

import importlib

from django.urls import include, path

app_name = "onsite"
urlpatterns: list = []
for prefix, module in (
    ("", "urls_visits"),
    ("consultations/", "urls_consultations"),
    ("meetings/", "urls_meetings"),
    ("dashboard/", "urls_dashboard"),
):
    try:
        importlib.import_module(f"branchcare.onsite.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"branchcare.onsite.{module}":
            raise
        continue
    urlpatterns.append(path(prefix, include(f"branchcare.onsite.{module}")))
