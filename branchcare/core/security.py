"""Security events: logins, logouts, failed logins and permission denials go to the audit log
(without personal data), and the login instant starts the absolute session lifetime."""

from __future__ import annotations

import logging
import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import audit_log
from .middleware import SESSION_LOGIN_KEY

logger = logging.getLogger("branchcare.security")


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.cycle_key()  # new session id at login (Django does this too; explicit here)
        request.session[SESSION_LOGIN_KEY] = int(time.time())
    audit_log(
        actor=user,
        action="security.login",
        object_type="security",
        object_repr=user.username,
        branch_id=getattr(user, "branch_id", None),
    )
    logger.info("login user=%s", user.username)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_log(
            actor=user,
            action="security.logout",
            object_type="security",
            object_repr=user.username,
            branch_id=getattr(user, "branch_id", None),
        )


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username", ""))[:150]
    audit_log(actor=None, action="security.login_failed", object_type="security", object_repr=username)
    logger.warning("login failed user=%s", username)


def record_denial(request, reason: str = "capability") -> None:
    """Record that ``request.user`` was refused a page or endpoint."""
    user = getattr(request, "user", None)
    audit_log(
        actor=user,
        action="security.denied",
        object_type="security",
        object_repr=request.path[:200],
        branch_id=getattr(user, "branch_id", None),
        changes={"reason": [None, reason], "method": [None, request.method]},
    )
