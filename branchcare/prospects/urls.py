"""潜在客户开发 pages under /prospects/."""

from django.urls import path

from . import views as v
from . import views_reports as r

app_name = "prospects"
urlpatterns = [
    path("", v.prospect_list, name="list"),
    path("new/", v.prospect_new, name="new"),
    path("import/", v.prospect_import, name="import"),
    path("import/template.xlsx", v.prospect_import_template, name="import_template"),
    path("import/<int:pk>/", v.prospect_import_job, name="import_job"),
    path("settings/", v.prospect_settings, name="settings"),
    path("partners/", v.partner_list, name="partners"),
    path("partners/new/", v.partner_new, name="partner_new"),
    path("partners/<int:pk>/edit/", v.partner_edit, name="partner_edit"),
    path("reports/", r.reports, name="reports"),
    path("<int:pk>/", v.prospect_detail, name="detail"),
    path("<int:pk>/edit/", v.prospect_edit, name="edit"),
    path("<int:pk>/follow-up/", v.prospect_followup, name="followup"),
    path("<int:pk>/transition/", v.prospect_transition, name="transition"),
    path("<int:pk>/claim/", v.prospect_claim, name="claim"),
    path("<int:pk>/assign/", v.prospect_assign, name="assign"),
    path("<int:pk>/link/", v.prospect_link, name="link"),
]
