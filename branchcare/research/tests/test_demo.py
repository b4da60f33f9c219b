"""Demo research data: created once, idempotent, with an expired external partner and one item in review."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from branchcare.research import selectors as sel
from branchcare.research.demo import seed_demo
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.testing.factories import HoldingFactory, SecurityFactory


def test_seed_demo_is_idempotent(world):
    today = timezone.localdate()
    world.client_m1.name = "张三"
    world.client_m1.save(update_fields=["name"])
    sec = SecurityFactory(code="600036", name="招商银行", industry="银行", risk_rating="R3")
    HoldingFactory(client=world.client_m1, security=sec, quantity=1000, cost_price=Decimal("35"), as_of=today)
    first = seed_demo(users=world.users, today=today, seed=7)
    assert (
        first["research_items"] >= 12
    )  # 4 sources (3 counted), 9 reports / commentary, recommendations, 1 in review
    assert seed_demo(users=world.users, today=today, seed=7) == {"research_items": 0}
    assert ResearchItem.objects.filter(state="review").count() == 1
    assert ResearchItem.objects.filter(state="published").count() >= 10
    assert ResearchItem.objects.filter(kind="recommendation", security=sec, state="published").exists()
    assert ResearchSource.objects.filter(kind="external").count() == 2
    assert not ResearchSource.objects.get(name="沪上投资咨询有限公司").is_valid_on(today)
    feed = sel.research_for_client(client=world.client_m1)
    assert any(i.security_id == sec.pk for i in feed)
