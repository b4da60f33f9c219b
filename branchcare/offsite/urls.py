"""非现场客户服务 pages under /offsite/ (names in the ``offsite`` namespace)."""

from django.urls import path

from . import views_calls as calls
from . import views_campaigns as campaigns
from . import views_inquiries as inquiries
from . import views_visits as visits

app_name = "offsite"
urlpatterns = [
    path("inquiries/", inquiries.inquiry_list, name="inquiries"),
    path("inquiries/new/", inquiries.inquiry_new, name="inquiry_new"),
    path("inquiries/<int:pk>/", inquiries.inquiry_detail, name="inquiry_detail"),
    path("inquiries/<int:pk>/transition/", inquiries.inquiry_transition, name="inquiry_transition"),
    path("inquiries/<int:pk>/survey/", inquiries.inquiry_survey, name="inquiry_survey"),
    path("calls/", calls.call_list, name="calls"),
    path("calls/current/", calls.call_current, name="call_current"),
    path("calls/<int:pk>/log/", calls.call_log, name="call_log"),
    path("calls/<int:pk>/end/", calls.call_end, name="call_end"),
    path("revisits/", visits.revisit_list, name="revisits"),
    path("revisits/<int:pk>/", visits.revisit_detail, name="revisit_detail"),
    path("revisits/<int:pk>/assign/", visits.revisit_assign, name="revisit_assign"),
    path("revisits/sample/", visits.revisit_sample, name="revisit_sample"),
    path("revisits/coverage/", visits.revisit_coverage, name="revisit_coverage"),
    path("revisits/rules/", visits.revisit_rules, name="revisit_rules"),
    path("revisits/rules/<int:pk>/", visits.revisit_rule_edit, name="revisit_rule_edit"),
    path("settings/", visits.offsite_settings, name="settings"),
    path("categories/", visits.category_save, name="category_save"),
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/targets/<int:pk>/", campaigns.target_record, name="campaign_target"),
]
