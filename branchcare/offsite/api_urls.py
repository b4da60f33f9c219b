"""非现场客户服务 API routes, included under /api/v1/."""

urlpatterns: list = []
