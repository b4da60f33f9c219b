"""研发平台 API routes, included under /api/v1/ (all under research/…)."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
