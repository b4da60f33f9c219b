from django.urls import include, path

from . import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list_view, name="list"),
    path("new/", views.client_create_view, name="create"),
    path("export/", views.client_export_view, name="export"),
    path("reassign/", views.client_reassign_view, name="reassign"),
    path("settings/tiers/", views.tier_settings_view, name="tier_settings"),
    path("<int:pk>/", views.client_detail_view, name="detail"),
    path("<int:pk>/edit/", views.client_edit_view, name="edit"),
    path("<int:pk>/timeline/", views.client_timeline_view, name="timeline"),
    path("import/", include("branchcare.clients.urls_import")),
]
