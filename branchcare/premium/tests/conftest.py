"""Fixtures of the premium tests: the rate tables, a broker in B002, and enrolments in both branches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.premium import services as svc
from branchcare.premium.models import ServiceTier
from branchcare.testing.factories import UserFactory

TODAY = dt.date(2026, 11, 25)


def add_rates(branch, actor, on: dt.date) -> None:
    for tier, rate in (
        (ServiceTier.SILVER, "0.40"),
        (ServiceTier.GOLD, "0.60"),
        (ServiceTier.DIAMOND, "0.80"),
    ):
        svc.rate_add(
            actor=actor, branch=branch, tier=tier, commission_rate=Decimal(rate), effective_from=on, today=on
        )


@pytest.fixture
def premium(world):
    """B001: rates from 2026-01-01, client_m1 enrolled (gold) with broker1 and a backup broker; B002 likewise
    for client_b2. Clients start at 0.25‰."""
    start = dt.date(2026, 1, 1)
    add_rates(world.b1, world["director"], start)
    add_rates(world.b2, world["b2director"], start)
    broker2 = UserFactory(username="broker2", name="经纪人二", branch=world.b1, roles=["broker"])
    b2broker = UserFactory(username="b2broker", name="杭州经纪人", branch=world.b2, roles=["broker"])
    for c in (world.client_m1, world.client_m2, world.client_b2):
        c.commission_rate = Decimal("0.25")
        c.save(update_fields=["commission_rate"])
    e1 = svc.enrol(
        actor=world["director"], client=world.client_m1, broker=world["broker1"], backup_broker=broker2,
        tier=ServiceTier.GOLD, agreement_no="GJ-2026-001", signed_on=dt.date(2026, 3, 1),
        effective_on=dt.date(2026, 3, 1), today=TODAY,
    )  # fmt: skip
    e2 = svc.enrol(
        actor=world["b2director"], client=world.client_b2, broker=b2broker, tier=ServiceTier.SILVER,
        agreement_no="HZ-2026-001", signed_on=dt.date(2026, 3, 1), effective_on=dt.date(2026, 3, 1), today=TODAY,
    )  # fmt: skip
    return {"e1": e1, "e2": e2, "broker2": broker2, "b2broker": b2broker}


@pytest.fixture
def requests_(world, premium):
    now = timezone.now()
    r1 = svc.request_create(
        actor=world["broker1"],
        client=world.client_m1,
        channel="phone",
        subject="询问招商银行",
        body="是否继续持有？",
        now=now,
    )
    rb2 = svc.request_create(
        actor=premium["b2broker"],
        client=world.client_b2,
        channel="wecom",
        subject="杭州客户",
        body="问题",
        now=now,
    )
    return {"r1": r1, "rb2": rb2}


def published_item(*, branch, security, title="招商银行：维持买入", risk="R2", source=None):
    """A published stock recommendation of the branch's own analysts on ``security``."""
    from branchcare.research.models import ResearchItem, ResearchSource

    source = source or ResearchSource.objects.create(branch=branch, kind="own", name="本营业部研究团队")
    now = timezone.now()
    return ResearchItem.objects.create(
        source=source, branch=branch, kind="recommendation", title=title, summary="估值低位，股息稳定。",
        security=security, direction="buy", state="published", published_on=timezone.localdate(now),
        published_at=now, risk_rating=risk, publisher="本营业部",
    )  # fmt: skip


@pytest.fixture
def briefing_world(world, premium):
    """client_m1 holds 600036; a published recommendation on it; broker1's briefing generated."""
    from branchcare.premium.services_briefing import briefing_generate
    from branchcare.testing.factories import HoldingFactory, SecurityFactory

    sec = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    HoldingFactory(client=world.client_m1, security=sec, quantity=1000, cost_price=Decimal("35"))
    item = published_item(branch=world.b1, security=sec)
    b = briefing_generate(broker=world["broker1"], actor=world["broker1"])
    return {"security": sec, "item": item, "briefing": b, "entry": b.items.get()}
