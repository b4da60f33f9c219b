"""The registrations: workbench cards, the client timeline, the bulk conversion's query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.core import timeline, workbench
from branchcare.prospects import services as svc
from branchcare.prospects.models import Prospect
from branchcare.testing.factories import ClientFactory

from .conftest import make_prospect

pytestmark = pytest.mark.django_db


def test_workbench_cards_for_owners_only(world, pw):
    make_prospect(
        world.b1, owner=world["broker1"], next_follow_up_due=timezone.localdate() - dt.timedelta(days=1)
    )
    cards = {c.title: c.value for c in workbench.cards_for(world["broker1"])}
    assert cards["我的潜在客户"] == 2 and cards["今日待跟进潜客"] == 1 and cards["公海潜客"] == 1
    assert workbench._providers["prospects"](world["consultant1"]) == []


def test_client_timeline_shows_the_conversion(world, pw):
    svc.prospect_link_client(
        actor=world["broker1"], prospect=pw["broker"], client_no=world.client_m1.client_no
    )
    now = timezone.now()
    events = list(
        timeline.providers()["prospects"](
            client=world.client_m1, viewer=world["director"], start=now - dt.timedelta(days=1), end=now
        )
    )
    assert len(events) == 1 and "大智慧软件" in events[0].detail
    assert not list(
        timeline.providers()["prospects"](
            client=world.client_m1, viewer=world["consultant1"], start=now - dt.timedelta(days=1), end=now
        )
    )


def test_bulk_conversion_query_count_does_not_grow(world, django_assert_max_num_queries):
    clients = []
    for i in range(30):
        make_prospect(world.b1, owner=world["broker1"], phone=f"1360000{i:04d}")
        clients.append(ClientFactory(branch=world.b1, phone=f"1360000{i:04d}", total_assets=0).pk)
    with django_assert_max_num_queries(20):
        assert svc.convert_clients(client_ids=clients, actor=world["director"]) == 30
    assert Prospect.objects.filter(stage="opened").count() == 30


def test_conversion_without_open_prospects_is_one_lookup(world, django_assert_max_num_queries):
    Prospect.objects.all().delete()
    with django_assert_max_num_queries(3):  # the savepoint, the lookup, its release
        assert svc.convert_clients(client_ids=[world.client_m1.pk], actor=None) == 0


def test_client_page_shows_where_the_client_came_from(world, pw, login):
    from django.urls import reverse

    svc.prospect_link_client(
        actor=world["broker1"], prospect=pw["broker"], client_no=world.client_m1.client_no
    )
    body = login("director").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert 'id="prospect-origin"' in body and "大智慧软件" in body and "0.1500‰" in body
    body = login("manager1").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert 'id="prospect-origin"' not in body  # manager1 owns the client, not the prospect
