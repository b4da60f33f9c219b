"""潜在客户开发 API routes, included under /api/v1/ (see :mod:`.apis`)."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
