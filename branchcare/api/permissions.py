"""Capability checks for API views: a missing capability answers 403 (scope is enforced by selectors → 404)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class HasCapability(BasePermission):
    """Allow the request when the user holds the capability the view declares for the current action.

    A view declares ``required_capabilities = {action: capability}``; for a viewset the key is the
    action (``list``, ``retrieve``, ``create`` …), for a plain ``APIView`` the lower-case HTTP method.
    An action the view does not list is refused (fail closed), so a new action cannot be added
    without stating who may call it. A method the view does not handle at all is let through so
    that DRF answers 405 rather than 403. Anonymous callers get 401 from DRF, not 403.
    """

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        method = request.method.lower()
        if getattr(view, method, None) is None:
            return True  # no handler: DRF answers 405 Method Not Allowed
        action = getattr(view, "action", None) or method
        capability = getattr(view, "required_capabilities", {}).get(action)
        return capability is not None and user.has_cap(capability)
