"""监督考核 pages under /supervision/."""

from django.urls import path

from . import views as v

app_name = "supervision"
urlpatterns = [
    path("", v.dashboard_view, name="dashboard"),
    path("items/", v.dashboard_items_view, name="dashboard_items"),
    path("scorecards/", v.scorecards_view, name="scorecards"),
    path("scorecards/export.xlsx", v.scorecards_xlsx_view, name="scorecards_xlsx"),
    path("scorecards/export.pdf", v.scorecards_pdf_view, name="scorecards_pdf"),
    path("scorecards/config/", v.scorecard_config_view, name="scorecard_config"),
    path("scorecards/recompute/", v.recompute_view, name="recompute"),
    path("drill/", v.drill_view, name="drill"),
    path("compliance/", v.compliance_view, name="compliance"),
    path("compliance/checks/<slug:code>/", v.compliance_check_view, name="compliance_check"),
    path("compliance/history/", v.history_find_view, name="history_find"),
    path("compliance/history/<int:pk>/", v.history_view, name="history"),
    path("compliance/history/<int:pk>/export.xlsx", v.history_xlsx_view, name="history_xlsx"),
    path("compliance/history/<int:pk>/export.pdf", v.history_pdf_view, name="history_pdf"),
]
