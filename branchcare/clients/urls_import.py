"""Import pages (upload, preview, progress, result), included under ``/clients/import/`` in the
``clients`` namespace."""

from django.urls import path

from . import views_import

urlpatterns = [
    path("", views_import.import_view, name="import"),
    path("jobs/<int:pk>/", views_import.import_job_view, name="import_job"),
    path("jobs/<int:pk>/progress/", views_import.import_job_progress_view, name="import_job_progress"),
    path("jobs/<int:pk>/errors.xlsx", views_import.import_errors_view, name="import_errors"),
    path("templates/<slug:kind>.xlsx", views_import.import_template_view, name="import_template"),
]
