"""非现场客户服务 API routes, included under /api/v1/ (see ``apis``)."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
