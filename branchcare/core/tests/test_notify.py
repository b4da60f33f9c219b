from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from branchcare.core import notify
from branchcare.core.models import Notification, NotificationDelivery


def test_notify_puts_messages_in_inboxes_and_sends_email(world, django_capture_on_commit_callbacks):
    world["manager1"].email = "m1@example.com"
    world["manager1"].save()
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(
            recipients=[world["manager1"], world["consultant1"]],
            title="咨询单待处理",
            url="/x/",
            channels=["email"],
        )
    assert notify.unread_count(world["manager1"]) == 1
    assert [m.subject for m in mail.outbox] == ["咨询单待处理"]
    statuses = sorted(NotificationDelivery.objects.values_list("status", flat=True))
    assert statuses == ["pending", "sent"]  # consultant1 has no e-mail address: retried later
    d = NotificationDelivery.objects.get(status="pending")
    assert d.attempts == 1 and "电子邮箱" in d.last_error and d.next_attempt_at is not None


def test_failed_delivery_is_retried_with_backoff_then_marked_failed(world, settings):
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": ""}
    [n] = notify.notify(recipients=[world["agent1"]], title="t", channels=["webhook"])
    d = n.deliveries.get()
    now = timezone.now()
    for _attempt in range(notify.MAX_ATTEMPTS):
        notify.deliver(d.pk, now=now)
        d.refresh_from_db()
        now = d.next_attempt_at or now
    assert d.status == "failed" and d.attempts == notify.MAX_ATTEMPTS
    assert notify.deliver(d.pk) == "skipped"  # idempotent: no further attempts


def test_retry_due_only_takes_due_deliveries(world):
    [n] = notify.notify(recipients=[world["agent1"]], title="t", channels=["webhook"])
    d = n.deliveries.get()
    NotificationDelivery.objects.filter(pk=d.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert notify.retry_due() == 0
    assert notify.retry_due(now=timezone.now() + dt.timedelta(hours=2)) == 1


def test_inbox_page_badge_and_mark_read(world, login):
    notify.notify(recipients=[world["manager1"]], title="新的咨询意见已就绪")
    c = login("manager1")
    body = c.get(reverse("home")).content.decode()
    assert 'id="inbox-link"' in body and "text-bg-danger" in body
    assert "新的咨询意见已就绪" in c.get(reverse("core:inbox")).content.decode()
    n = Notification.objects.get()
    r = c.post(reverse("core:inbox_read"), {"id": n.pk}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "未读" not in r.content.decode()
    n.refresh_from_db()
    assert n.read_at is not None


def test_cannot_mark_someone_elses_notification(world, login):
    [n] = notify.notify(recipients=[world["manager2"]], title="x")
    login("manager1").post(reverse("core:inbox_read"), {"id": n.pk})
    n.refresh_from_db()
    assert n.read_at is None


@pytest.mark.parametrize("url", ["core:inbox"])
def test_inbox_needs_login(client, db, url):
    assert client.get(reverse(url)).status_code == 302
