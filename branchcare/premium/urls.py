"""高端客户服务 pages under /premium/ (names in the ``premium`` namespace)."""

from django.urls import path

from . import views as v
from . import views_briefing as vb
from . import views_dashboard as vd

app_name = "premium"
urlpatterns = [
    path("", v.desk, name="desk"),
    path("requests/new/", v.request_new, name="request_new"),
    path("requests/<int:pk>/", v.request_detail, name="request_detail"),
    path("requests/<int:pk>/transition/", v.request_transition, name="request_transition"),
    path("requests/<int:pk>/message/", v.request_message, name="request_message"),
    path("requests/<int:pk>/ask/", v.request_ask, name="request_ask"),
    path("questions/", v.questions, name="questions"),
    path("questions/<int:pk>/answer/", v.question_answer, name="question_answer"),
    path("questions/<int:pk>/relay/", v.question_relay, name="question_relay"),
    path("enrolments/", v.enrolments, name="enrolments"),
    path("enrolments/new/", v.enrol, name="enrol"),
    path("enrolments/<int:pk>/", v.enrolment_detail, name="enrolment_detail"),
    path("rates/add/", v.rate_add, name="rate_add"),
    path("settings/", v.desk_settings, name="desk_settings"),
    path("briefing/", vb.briefing, name="briefing"),
    path("briefing/generate/", vb.briefing_generate, name="briefing_generate"),
    path("briefing/items/<int:pk>/explain/", vb.briefing_explain, name="briefing_explain"),
    path("dashboard/", vd.dashboard, name="dashboard"),
]
