"""Plans, visits, patrols and follow-ups (included at ``/onsite/`` inside the ``onsite`` namespace)."""

from django.urls import path

from . import views_visits as views

urlpatterns = [
    path("today/", views.today_view, name="today"),
    path("today/generate/", views.plan_generate_view, name="plan_generate"),
    path("plan-items/<int:pk>/swap/", views.plan_swap_view, name="plan_swap"),
    path("visits/", views.visit_list_view, name="visits"),
    path("visits/new/", views.visit_new_view, name="visit_new"),
    path("visits/<int:pk>/", views.visit_detail_view, name="visit_detail"),
    path("patrols/", views.patrol_list_view, name="patrols"),
    path("patrols/new/", views.patrol_new_view, name="patrol_new"),
    path("patrols/<int:pk>/", views.patrol_detail_view, name="patrol_detail"),
    path("follow-ups/", views.followup_list_view, name="followups"),
    path("follow-ups/<int:pk>/done/", views.followup_done_view, name="followup_done"),
]
