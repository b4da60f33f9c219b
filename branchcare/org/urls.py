from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<int:pk>/edit/", views.staff_edit_view, name="staff_edit"),
    path("roles/", views.role_list_view, name="roles"),
    path("roles/<int:pk>/edit/", views.role_edit_view, name="role_edit"),
    path("rooms/", views.room_list_view, name="rooms"),
    path("audit/", views.audit_list_view, name="audit_list"),
]
