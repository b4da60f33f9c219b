"""The demo data: the league table is populated, and a second run adds nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from branchcare.clients.demo_data import last_weekday_before
from branchcare.clients.securities import load_securities, seed_price_history
from branchcare.research.performance import demo, selectors
from branchcare.research.performance.models import RecommendationOutcome

pytestmark = pytest.mark.django_db


def test_demo_populates_the_league_and_is_idempotent(world):
    today = timezone.localdate()
    load_securities()
    seed_price_history(seed=42, end=last_weekday_before(today), days=30)
    first = demo.seed_demo(users=world.users, today=today, seed=42)
    assert first["performance_recommendations"] == len(demo.RECS)
    assert first["performance_outcomes"] == len(demo.RECS)
    statuses = set(RecommendationOutcome.objects.values_list("status", flat=True))
    assert "complete" in statuses and "pending" not in statuses
    rows = selectors.league(viewer=world["director"], by="author")
    assert {r.key for r in rows} >= {world["researcher1"].pk, world["consultant1"].pk}
    assert len(selectors.league(viewer=world["director"], by="source")) == 3
    again = demo.seed_demo(users=world.users, today=today, seed=42)
    assert again["performance_recommendations"] == 0 and again["performance_prices"] == 0
