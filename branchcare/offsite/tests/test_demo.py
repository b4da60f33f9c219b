"""The demo data loads, shows the feature populated (one overdue complaint escalated), and is idempotent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from branchcare.offsite.demo import seed_demo
from branchcare.offsite.models import Inquiry, InquiryCategory, ReturnVisit
from branchcare.testing.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent(world):
    world.b1.code = "B001"
    ClientFactory.create_batch(8, branch=world.b1, manager=world["manager1"])
    today = timezone.localdate()
    first = seed_demo(users=world.users, today=today, seed=7)
    assert first["offsite_inquiries"] == 7 and first["offsite_categories"] == 5
    assert first["offsite_return_visits"] >= 3
    assert Inquiry.objects.filter(escalated=True, kind="complaint").exists()
    assert Inquiry.objects.filter(state="closed").count() == 2
    assert not ReturnVisit.objects.filter(
        assignee=world["manager1"], client__manager=world["manager1"]
    ).exists()
    again = seed_demo(users=world.users, today=today, seed=7)
    assert again == {
        "offsite_categories": 0,
        "offsite_inquiries": 0,
        "offsite_return_visits": 0,
        "offsite_calls": 0,
    }
    assert InquiryCategory.objects.count() == 5
