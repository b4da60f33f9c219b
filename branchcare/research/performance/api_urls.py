"""推荐绩效 API routes, included under /api/v1/ (see apis.py)."""

from .apis import urlpatterns

__all__ = ["urlpatterns"]
