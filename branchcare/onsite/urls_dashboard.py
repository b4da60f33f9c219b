"""现场服务看板 (included under ``onsite/dashboard/`` in the ``onsite`` namespace)."""

from django.urls import path

from . import views_dashboard as views

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("drill/", views.dashboard_drill_view, name="dashboard_drill"),
]
