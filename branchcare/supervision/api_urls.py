"""监督考核 API routes, included under /api/v1/."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
