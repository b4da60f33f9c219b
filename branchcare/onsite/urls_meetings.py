"""客户交流会 pages (included under ``onsite/meetings/`` in the ``onsite`` namespace)."""

from django.urls import path

from . import views_meetings as views

urlpatterns = [
    path("", views.meetings_view, name="meetings"),
    path("new/", views.meeting_new_view, name="meeting_new"),
    path("<int:pk>/", views.meeting_detail_view, name="meeting_detail"),
    path("<int:pk>/invitations/", views.meeting_invitations_view, name="meeting_invitations"),
    path("<int:pk>/invitations/<int:invitation_pk>/rsvp/", views.meeting_rsvp_view, name="meeting_rsvp"),
    path("<int:pk>/attendance/", views.meeting_attendance_view, name="meeting_attendance"),
    path("<int:pk>/minutes/", views.meeting_minutes_view, name="meeting_minutes"),
    path("<int:pk>/cancel/", views.meeting_cancel_view, name="meeting_cancel"),
    path("<int:pk>/meeting.ics", views.meeting_ics_view, name="meeting_ics"),
    path("<int:pk>/materials/", views.meeting_material_upload_view, name="meeting_material_upload"),
    path(
        "<int:pk>/materials/<int:material_pk>/",
        views.meeting_material_download_view,
        name="meeting_material_download",
    ),
    path(
        "<int:pk>/materials/<int:material_pk>/delete/",
        views.meeting_material_delete_view,
        name="meeting_material_delete",
    ),
]
