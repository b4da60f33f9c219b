"""研发平台 pages under /research/."""

from django.urls import path

from . import views

app_name = "research"
urlpatterns = [
    path("", views.item_list, name="items"),
    path("items/new/", views.item_new, name="item_new"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/transition/", views.item_transition, name="item_transition"),
    path("items/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("review/", views.review_queue, name="review_queue"),
    path("sources/", views.source_list, name="sources"),
    path("sources/new/", views.source_new, name="source_new"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("pushes/", views.push_list, name="pushes"),
    path("pushes/new/", views.push_new, name="push_new"),
    path("pushes/<int:pk>/", views.push_detail, name="push_detail"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("deliveries/<int:pk>/done/", views.delivery_done, name="delivery_done"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
    path("clients/<int:client_id>/", views.client_feed, name="client_feed"),
]
