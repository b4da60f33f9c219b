"""潜在客户开发 pages."""

app_name = "prospects"
urlpatterns: list = []
