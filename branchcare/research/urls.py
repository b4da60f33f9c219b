"""研发平台 pages."""

app_name = "research"
urlpatterns: list = []
