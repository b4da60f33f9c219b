"""高端客户服务 pages."""

app_name = "premium"
urlpatterns: list = []
