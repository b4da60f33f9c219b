from django.urls import path

from . import views_inbox

app_name = "core"
urlpatterns = [
    path("", views_inbox.inbox_view, name="inbox"),
    path("read/", views_inbox.inbox_read_view, name="inbox_read"),
]
