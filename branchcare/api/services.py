"""Writes the API layer owns itself: issuing API tokens."""

from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token

from branchcare.core.audit import audit_log
from branchcare.org.models import User


@transaction.atomic
def api_token_issue(*, user: User) -> Token:
    """The user's API token (created on first use). Each issue is audited, since it hands out a
    credential that does not expire with the session."""
    token, _created = Token.objects.get_or_create(user=user)
    audit_log(actor=user, action="auth.api_token", obj=user)
    return token
