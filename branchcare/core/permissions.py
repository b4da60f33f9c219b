"""View decorators: a missing capability answers 403; objects outside scope are 404 in the selectors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied


def require_cap(*capabilities: str) -> Callable:
    """Allow the view only to users holding every one of ``capabilities``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or not all(user.has_cap(c) for c in capabilities):
                from .security import record_denial

                record_denial(request, reason=",".join(capabilities))
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_capabilities = capabilities  # type: ignore[attr-defined]
        return wrapper

    return decorator
