"""Request type for API views behind ``IsAuthenticated``: ``request.user`` is a staff ``User``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request

if TYPE_CHECKING:
    from branchcare.org.models import User


class AuthedRequest(Request):
    user: User  # type: ignore[assignment]
