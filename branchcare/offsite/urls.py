"""非现场客户服务 pages."""

app_name = "offsite"
urlpatterns: list = []
