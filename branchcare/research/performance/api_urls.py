"""推荐绩效 API routes, included under /api/v1/."""

urlpatterns: list = []
