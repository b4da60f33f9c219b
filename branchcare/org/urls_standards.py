"""服务标准 and 交易日历 (included under ``org/standards/``)."""

from django.urls import path

from . import views_standards as views

app_name = "standards"
urlpatterns = [
    path("", views.standards_view, name="standards"),
    path("<int:pk>/edit/", views.standards_view, name="standard_edit"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/overrides/add/", views.override_add_view, name="override_add"),
    path("calendar/overrides/<int:pk>/remove/", views.override_remove_view, name="override_remove"),
    path("calendar/coverage/", views.coverage_declare_view, name="coverage_declare"),
]
