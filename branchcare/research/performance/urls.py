"""推荐绩效 pages."""

app_name = "research_performance"
urlpatterns: list = []
