"""The demo data: populated, and idempotent."""

from __future__ import annotations

from django.utils import timezone

from branchcare.premium.demo import seed_demo
from branchcare.premium.models import Enrolment, PremiumRequest
from branchcare.testing.factories import ClientFactory


def test_seed_demo_populates_and_is_idempotent(world):
    for i in range(10):
        ClientFactory(branch=world.b1, manager=world["manager1"], total_assets=1_000_000 + i)
    today = timezone.localdate()
    first = seed_demo(users=world.users, today=today, seed=1)
    assert first["premium_enrolments"] == 9 and first["premium_requests"] == 6 and first["premium_rates"] == 8
    assert Enrolment.objects.filter(state="active").count() == 8  # one downgraded (replaced), one exited
    assert PremiumRequest.objects.filter(escalation_level=2).count() == 1
    assert PremiumRequest.objects.filter(state="closed", satisfaction__isnull=False).count() == 2
    again = seed_demo(users=world.users, today=today, seed=1)
    assert again["premium_enrolments"] == 0 and again["premium_requests"] == 0 and again["premium_rates"] == 0
