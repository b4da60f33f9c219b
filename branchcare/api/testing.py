"""Test helpers for API tests: an ``APIClient`` that authenticates with a real token."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_client(user=None) -> APIClient:
    """An ``APIClient`` sending ``Authorization: Token …`` for ``user`` (anonymous when None).

    Using a real token rather than ``force_authenticate`` exercises the authentication classes and
    loads a fresh user per request, as in production (so capability caches do not leak between calls).
    """
    client = APIClient()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
