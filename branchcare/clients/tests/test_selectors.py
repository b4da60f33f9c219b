from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from branchcare.clients.selectors import ClientFilters, client_get_for, client_list, count_capped
from branchcare.testing.factories import ClientFactory


def _names(qs):
    return sorted(c.name for c in qs)


@pytest.mark.parametrize("q", ["zs", "ZS", "zhangs", "张", "张三", "5678", "ｚｓ"])
def test_search_finds_zhangsan(world, q):
    assert "张三" in _names(client_list(viewer=world["director"], filters=ClientFilters(q=q)))


def test_search_by_client_no_prefix(world):
    no = world.client_m2.client_no
    assert _names(client_list(viewer=world["director"], filters=ClientFilters(q=no[:6]))) == ["张三", "李四"]
    assert _names(client_list(viewer=world["director"], filters=ClientFilters(q=no))) == ["李四"]


@pytest.mark.parametrize(
    "username,expected",
    [
        ("manager1", ["张三"]),
        ("manager2", ["李四"]),
        ("director", ["张三", "李四"]),
        ("agent1", ["张三", "李四"]),
        ("b2manager1", ["王五"]),
        ("admin", ["张三", "李四", "王五"]),
        ("researcher1", []),
    ],
)
def test_client_list_is_scoped(world, username, expected):
    assert _names(client_list(viewer=world[username])) == expected


def test_team_scope_sees_the_team_book(world):
    from branchcare.org.models import Role

    role = Role.objects.create(code="teamlead", name="团队长", scope="team", capabilities=["clients.view"])
    world["manager1"].roles.add(role)
    viewer = type(world["manager1"]).objects.get(pk=world["manager1"].pk)
    ClientFactory(branch=world.b1, manager=world["broker1"], name="赵六")  # broker1 is in manager1's team
    assert _names(client_list(viewer=viewer)) == ["张三", "赵六"]


def test_get_outside_scope_is_404(world):
    with pytest.raises(Http404):
        client_get_for(viewer=world["manager2"], pk=world.client_m1.pk)
    with pytest.raises(Http404):
        client_get_for(viewer=world["b2manager1"], pk=world.client_m1.pk)
    with pytest.raises(Http404):
        client_get_for(viewer=world["director"], pk="abc")
    assert client_get_for(viewer=world["manager1"], pk=world.client_m1.pk) == world.client_m1


def test_filters(world):
    ClientFactory(
        branch=world.b1,
        manager=world["manager1"],
        name="周八",
        is_premium=True,
        tier="large",
        risk_assessed_on=dt.date(2020, 1, 1),
        status="dormant",
    )
    d = world["director"]
    assert _names(client_list(viewer=d, filters=ClientFilters(premium=True))) == ["周八"]
    assert _names(client_list(viewer=d, filters=ClientFilters(tier="large"))) == ["周八"]
    assert _names(client_list(viewer=d, filters=ClientFilters(assessment_expired=True))) == ["周八"]
    assert _names(client_list(viewer=d, filters=ClientFilters(status="dormant"))) == ["周八"]
    assert _names(client_list(viewer=d, filters=ClientFilters(manager=world["manager2"].pk))) == ["李四"]


def test_filters_from_params_ignore_garbage():
    f = ClientFilters.from_params(
        {"tier": "huge", "manager": "1; drop", "sort": "password", "premium": "maybe"}
    )
    assert (f.tier, f.manager, f.sort, f.premium) == ("", None, "client_no", None)


def test_count_capped(world):
    from branchcare.clients.models import Client

    assert count_capped(Client.objects.all(), cap=2) == (2, True)
    assert count_capped(Client.objects.all(), cap=10) == (3, False)


def test_holdings_totals_ignore_unpriced_positions(world):
    from decimal import Decimal

    from branchcare.clients.selectors import holdings_for, holdings_totals
    from branchcare.testing.factories import HoldingFactory, PriceFactory, SecurityFactory

    priced, unpriced = SecurityFactory(code="600001"), SecurityFactory(code="600002")
    HoldingFactory(client=world.client_m1, security=priced, quantity=100, cost_price=Decimal("10"))
    HoldingFactory(client=world.client_m1, security=unpriced, quantity=100, cost_price=Decimal("50"))
    PriceFactory(security=priced, close=Decimal("12"))
    totals = holdings_totals(holdings_for(client=world.client_m1))
    assert totals.market_value == Decimal("1200") and totals.pnl == Decimal("200")
    assert holdings_totals([]).pnl is None
