"""高端客户服务 API routes, included under /api/v1/ (all under ``premium/``)."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
