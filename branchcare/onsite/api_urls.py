"""On-site API routes under /api/v1/, contributed by each part's ``apis_*`` module (``urlpatterns``)."""

import importlib

urlpatterns: list = []
for module in ("apis_visits", "apis_consultations", "apis_meetings", "apis_dashboard"):
    try:
        mod = importlib.import_module(f"branchcare.onsite.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"branchcare.onsite.{module}":
            raise
        continue
    urlpatterns += getattr(mod, "urlpatterns", [])
