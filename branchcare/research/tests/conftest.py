"""Research test data: sources of every kind, securities in two industries, holdings of the world's
clients, and items in each state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.research import services as svc
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.testing.factories import ClientFactory, HoldingFactory, SecurityFactory


@dataclass
class RWorld:
    own: ResearchSource
    head: ResearchSource
    partner: ResearchSource
    expired_partner: ResearchSource
    b2_own: ResearchSource
    semi: object
    bank: object
    semi2: object
    draft: ResearchItem
    review: ResearchItem
    published: ResearchItem
    rec: ResearchItem
    expired_item: ResearchItem
    b2_item: ResearchItem
    client_low: object


def make_item(actor, source, *, state="published", reviewer=None, **kw) -> ResearchItem:
    data = {"source": source, "kind": "report", "title": "测试研究", "body": "正文", "risk_rating": "R3"}
    securities = kw.pop("securities", [])
    data.update(kw)
    item = svc.item_create(actor=actor, data=data, securities=securities)
    if state in ("review", "published"):
        item = svc.item_submit(actor=actor, item=item)
    if state == "published":
        item = svc.item_review(actor=reviewer, item=item, decision="approve", comment="同意")
    return item


@pytest.fixture
def rworld(world) -> RWorld:
    today = timezone.localdate()
    b1, b2 = world.b1, world.b2
    researcher, reviewer = world["researcher1"], world["compliance1"]
    own = ResearchSource.objects.create(branch=b1, kind="own", name="浦东营业部研究组")
    head = ResearchSource.objects.create(branch=None, kind="head_office", name="总部研究所")
    partner = ResearchSource.objects.create(
        branch=b1, kind="external", name="复旦金融研究院", licence_no="ZX-2024-001",
        contract_start=today - dt.timedelta(days=100), contract_end=today + dt.timedelta(days=200),
    )  # fmt: skip
    expired_partner = ResearchSource.objects.create(
        branch=b1, kind="external", name="某咨询公司", licence_no="ZX-2020-009",
        contract_start=today - dt.timedelta(days=800), contract_end=today - dt.timedelta(days=10),
    )  # fmt: skip
    b2_own = ResearchSource.objects.create(branch=b2, kind="own", name="西湖营业部研究组")
    semi = SecurityFactory(code="688981", exchange="SH", name="中芯国际", industry="半导体", risk_rating="R4")
    semi2 = SecurityFactory(
        code="603986", exchange="SH", name="兆易创新", industry="半导体", risk_rating="R4"
    )
    bank = SecurityFactory(code="600036", exchange="SH", name="招商银行", industry="银行", risk_rating="R2")
    c1, c2 = world.client_m1, world.client_m2
    c1.risk_level, c2.risk_level = "C4", "C2"
    c1.save(update_fields=["risk_level"])
    c2.save(update_fields=["risk_level"])
    HoldingFactory(client=c1, security=semi2, quantity=1000, cost_price=Decimal("80"), as_of=today)
    HoldingFactory(client=c2, security=semi, quantity=500, cost_price=Decimal("50"), as_of=today)
    HoldingFactory(client=world.client_b2, security=semi, quantity=500, cost_price=Decimal("50"), as_of=today)
    low = ClientFactory(
        branch=b1, manager=world["manager1"], name="赵六", risk_level="", risk_assessed_on=None
    )
    HoldingFactory(client=low, security=semi, quantity=100, cost_price=Decimal("50"), as_of=today)
    draft = make_item(researcher, own, state="draft", title="银行板块草稿")
    review = make_item(researcher, own, state="review", title="银行业季度展望", securities=[bank])
    published = make_item(
        researcher, head, reviewer=reviewer, title="半导体设备国产化深度报告", industries=["半导体"],
        body="国产替代加速，光刻胶与刻蚀设备景气上行。", risk_rating="R3",
    )  # fmt: skip
    rec = make_item(
        researcher, own, reviewer=reviewer, kind="recommendation", title="中芯国际：买入", security=semi,
        direction="buy", target_price=Decimal("70"), stop_loss=Decimal("45"), horizon_days=60,
        reason="产能扩张，订单饱满。", risk_rating="R4",
    )  # fmt: skip
    expired_item = make_item(researcher, own, reviewer=reviewer, title="过期的解盘", kind="commentary",
                             industries=["半导体"], risk_rating="R1")  # fmt: skip
    ResearchItem.objects.filter(pk=expired_item.pk).update(expires_on=today - dt.timedelta(days=1))
    b2_item = ResearchItem.objects.create(
        source=b2_own, branch=b2, title="西湖研究", state="published", published_on=today,
        published_at=timezone.now(), risk_rating="R1", security=semi, kind="report",
    )  # fmt: skip
    return RWorld(own, head, partner, expired_partner, b2_own, semi, bank, semi2, draft, review, published, rec,
                  expired_item, b2_item, low)  # fmt: skip
