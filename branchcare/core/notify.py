"""Notifications: an in-app inbox for every member of staff plus channel adapters (e-mail, and a
webhook for WeCom / SMS gateways). Delivery attempts are recorded and retried by a background job.

Apps call :func:`notify` from their services (inside the writing transaction); external deliveries
are queued to run after commit, so a rolled-back change sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .masking import mask_text
from .models import Notification, NotificationDelivery

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

Sender = Callable[[Notification], None]
_channels: dict[str, Sender] = {}


def register_channel(name: str, sender: Sender) -> None:
    """Register an external channel; ``sender`` raises on failure."""
    _channels[name] = sender


def _send_email(n: Notification) -> None:
    address = n.recipient.email
    if not address:
        raise ValueError("收件人没有电子邮箱")
    send_mail(
        n.title, f"{n.body}\n\n{n.url}".strip(), settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False
    )


def _send_webhook(n: Notification) -> None:
    url = settings.BRANCHCARE.get("WEBHOOK_URL", "")
    if not url:
        raise ValueError("未配置 WEBHOOK_URL")
    # WeCom group-robot message format; personal data never leaves in clear text.
    payload = {"msgtype": "text", "text": {"content": mask_text(f"{n.title}\n{n.body}")}}
    request = urllib.request.Request(  # noqa: S310 - the URL is the administrator's configured gateway
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise ValueError(f"HTTP {response.status}")


register_channel("email", _send_email)
register_channel("webhook", _send_webhook)


def notify(
    *,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    url: str = "",
    kind: str = "info",
    channels: Iterable[str] = (),
) -> list[Notification]:
    """Put a message in each recipient's inbox and queue it on the given external ``channels``."""
    users = {u.pk: u for u in recipients if getattr(u, "pk", None)}
    created = Notification.objects.bulk_create(
        [
            Notification(recipient=u, title=title[:200], body=body, url=url[:300], kind=kind)
            for u in users.values()
        ]
    )
    deliveries = NotificationDelivery.objects.bulk_create(
        [NotificationDelivery(notification=n, channel=c) for n in created for c in channels if c in _channels]
    )
    if deliveries:
        ids = [d.pk for d in deliveries if d.pk]
        if not ids:  # backends that do not return ids from bulk_create
            ids = list(
                NotificationDelivery.objects.filter(notification__in=created).values_list("pk", flat=True)
            )
        transaction.on_commit(lambda: _enqueue(ids))
    return created


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_notifications

    deliver_notifications(ids)


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Try one delivery once; record the outcome and schedule a retry with back-off. Idempotent:
    a sent or finally failed delivery is not sent again."""
    now = now or timezone.now()
    with transaction.atomic():
        d = (
            NotificationDelivery.objects.select_for_update(of=("self",))
            .select_related("notification__recipient")
            .filter(pk=delivery_id, status=NotificationDelivery.Status.PENDING)
            .first()
        )
        if d is None:
            return "skipped"
        d.attempts += 1
        try:
            _channels[d.channel](d.notification)
        except Exception as exc:  # noqa: BLE001 - any channel failure is recorded and retried
            d.last_error = mask_text(str(exc))[:500]
            if d.attempts >= MAX_ATTEMPTS:
                d.status = NotificationDelivery.Status.FAILED
                d.next_attempt_at = None
                logger.warning("notification delivery %s failed for good: %s", d.pk, d.last_error)
            else:
                d.next_attempt_at = now + dt.timedelta(minutes=2**d.attempts)
        else:
            d.status, d.sent_at, d.next_attempt_at, d.last_error = (
                NotificationDelivery.Status.SENT,
                now,
                None,
                "",
            )
        d.save()
        return d.status


def retry_due(*, now: dt.datetime | None = None) -> int:
    """Retry every pending delivery whose back-off has passed; returns how many were tried."""
    now = now or timezone.now()
    ids = list(
        NotificationDelivery.objects.filter(
            status=NotificationDelivery.Status.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        deliver(pk, now=now)
    return len(ids)


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox(user: Any):
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


@transaction.atomic
def mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all, or ``ids``) read; returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
