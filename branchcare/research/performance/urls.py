"""推荐绩效 pages, under /research/performance/."""

from django.urls import path

from . import views

app_name = "research_performance"
urlpatterns = [
    path("", views.league_view, name="league"),
    path("recommendations/<int:item_id>/", views.recommendation_view, name="recommendation"),
    path("prices/import/", views.price_import_view, name="price_import"),
    path("prices/import/<int:pk>/", views.price_import_job_view, name="price_import_job"),
    path("prices/import/<int:pk>/progress/", views.price_import_progress_view, name="price_import_progress"),
    path("prices/import/<int:pk>/errors.xlsx", views.price_import_errors_view, name="price_import_errors"),
    path("prices/template.xlsx", views.price_template_view, name="price_template"),
]
