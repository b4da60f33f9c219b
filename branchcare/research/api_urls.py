"""研发平台 API routes, included under /api/v1/."""

urlpatterns: list = []
