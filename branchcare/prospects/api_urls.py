"""潜在客户开发 API routes, included under /api/v1/."""

urlpatterns: list = []
