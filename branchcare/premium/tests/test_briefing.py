"""The broker's daily briefing: relevant new research per premium client, idempotent generation, and
"explained" recorded as a research delivery (refused for an unlicensed source)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.core.errors import DomainError
from branchcare.premium import services_briefing as svc
from branchcare.premium.models import Briefing, BriefingItem
from branchcare.research.models import ResearchDelivery, ResearchSource
from branchcare.testing.factories import SecurityFactory

from .conftest import published_item


def test_briefing_lists_relevant_items_once(world, premium, briefing_world):
    b = briefing_world["briefing"]
    assert [(e.client_id, e.item_id) for e in b.items.all()] == [
        (world.client_m1.pk, briefing_world["item"].pk)
    ]
    # not relevant: a security nobody holds; too risky for a C3 client
    published_item(
        branch=world.b1,
        security=SecurityFactory(code="000001", name="平安银行", industry="地产"),
        title="无关",
    )
    published_item(branch=world.b1, security=briefing_world["security"], title="高风险", risk="R5")
    again = svc.briefing_generate(broker=world["broker1"], actor=world["broker1"])
    assert again.pk == b.pk and again.items.count() == 1  # idempotent, nothing irrelevant added
    # tomorrow, the item already briefed is not repeated
    tomorrow = svc.briefing_generate(
        broker=world["broker1"], date=timezone.localdate() + dt.timedelta(days=1)
    )
    assert tomorrow.items.count() == 0


def test_explain_records_delivery(world, premium, briefing_world):
    entry = briefing_world["entry"]
    done = svc.briefing_explain(actor=world["broker1"], entry=entry, note="电话讲解")
    delivery = ResearchDelivery.objects.get(pk=done.delivery_id)
    assert delivery.channel == "briefing" and delivery.client_id == world.client_m1.pk and done.explained_at
    with pytest.raises(DomainError):
        svc.briefing_explain(actor=world["broker1"], entry=entry)


def test_explain_refuses_unlicensed_source_and_changes_nothing(world, premium, briefing_world):
    entry = briefing_world["entry"]
    ResearchSource.objects.filter(pk=briefing_world["item"].source_id).update(kind="external", licence_no="")
    with pytest.raises(DomainError) as exc:
        svc.briefing_explain(actor=world["broker1"], entry=entry)
    assert "第十七条" in exc.value.message
    assert BriefingItem.objects.get(pk=entry.pk).explained_at is None
    assert not ResearchDelivery.objects.exists()


def test_only_the_briefings_broker_explains(world, premium, briefing_world):
    with pytest.raises(DomainError) as exc:
        svc.briefing_explain(actor=premium["broker2"], entry=briefing_world["entry"])
    assert exc.value.code == "forbidden"


def test_generate_all_and_non_broker_refused(world, premium, briefing_world):
    assert (
        svc.briefings_generate_all(date=timezone.localdate() + dt.timedelta(days=2)) == 2
    )  # broker1, b2broker
    assert Briefing.objects.filter(date=timezone.localdate() + dt.timedelta(days=2)).count() == 2
    with pytest.raises(DomainError):
        svc.briefing_generate(broker=world["director"])


def test_briefing_page_shows_item_and_explain(world, premium, briefing_world, login):
    from django.urls import reverse

    client = login("broker1")
    page = client.get(reverse("premium:briefing")).content.decode()
    assert "招商银行：维持买入" in page and "已讲解 0 / 1 条" in page
    client.post(reverse("premium:briefing_explain", args=[briefing_world["entry"].pk]), {"note": "x"})
    page = client.get(reverse("premium:briefing")).content.decode()
    assert "已讲解 1 / 1 条" in page
