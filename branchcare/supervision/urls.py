"""监督考核 pages."""

app_name = "supervision"
urlpatterns: list = []
