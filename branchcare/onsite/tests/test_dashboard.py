"""现场服务看板: each figure's arithmetic on known records, drill-downs that list exactly what was
counted, the permission matrix, company-scope branch picking and the query-count bound."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from branchcare.onsite.models import (
    ConsultationOrder,
    Patrol,
    PatrolPlanItem,
    Visit,
    VisitPlan,
    VisitPlanItem,
)
from branchcare.onsite.selectors_dashboard import METRICS, drill_records, onsite_dashboard
from branchcare.org.capabilities import Cap, Scope
from branchcare.org.models import Role
from branchcare.testing.factories import ClientFactory, RoomFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=TZ)  # Wednesday, a trading day
TODAY = NOW.date()


def at(m, d, h=10, mi=0):
    return dt.datetime(2026, m, d, h, mi, tzinfo=TZ)


def _plan(manager, date, *, clients=(), statuses=(), rooms=(), room_statuses=()):
    plan = VisitPlan.objects.create(
        branch=manager.branch, manager=manager, date=date, visits_quota=len(clients), patrols_quota=len(rooms)
    )
    items = [
        VisitPlanItem.objects.create(plan=plan, client=c, rank=i + 1, status=s)
        for i, (c, s) in enumerate(zip(clients, statuses, strict=True))
    ]
    rounds = [
        PatrolPlanItem.objects.create(plan=plan, room=r, round_no=i + 1, status=s)
        for i, (r, s) in enumerate(zip(rooms, room_statuses, strict=True))
    ]
    return plan, items, rounds


def _visit(manager, client, when, item=None):
    return Visit.objects.create(
        branch=manager.branch, manager=manager, client=client, at=when, topic="例行拜访", plan_item=item
    )


def _patrol(manager, room, when, item=None):
    return Patrol.objects.create(branch=manager.branch, manager=manager, room=room, at=when, plan_item=item)


def _order(manager, client, state, *, submitted=None, due=None, ready=None, delivered=None, rework=0, **kw):
    return ConsultationOrder.objects.create(
        branch=manager.branch,
        client=client,
        manager=manager,
        question="持仓怎么办？",
        state=state,
        submitted_at=submitted,
        due_at=due,
        advice_ready_at=ready,
        delivered_at=delivered,
        rework_count=rework,
        **kw,
    )


@pytest.fixture
def records(world):
    """Known records for manager1 (and a little for manager2); the expected figures are in the tests."""
    m1, m2 = world["manager1"], world["manager2"]
    c = [ClientFactory(branch=world.b1, manager=m1) for _ in range(6)]
    room1, room2 = (
        RoomFactory(branch=world.b1, name="大户室一"),
        RoomFactory(branch=world.b1, name="大户室二"),
    )
    S = VisitPlanItem.Status
    # today: A done, B planned, C swapped for D (C not counted)
    _p, (a, _b, c_item, d), rounds = _plan(
        m1,
        TODAY,
        clients=c[:4],
        statuses=[S.DONE, S.PLANNED, S.SWAPPED, S.PLANNED],
        rooms=[room1, room2],
        room_statuses=["done", "planned"],
    )
    c_item.replaced_by = d
    c_item.save()
    _visit(m1, c[0], at(11, 25, 10), a)
    _patrol(m1, room1, at(11, 25, 10, 30), rounds[0])
    _patrol(m1, room2, at(11, 25, 11))  # unplanned
    # 11-10: two planned visits done, two patrol rounds done
    _p2, items2, rounds2 = _plan(
        m1,
        dt.date(2026, 11, 10),
        clients=c[4:6],
        statuses=[S.DONE, S.DONE],
        rooms=[room1, room2],
        room_statuses=["done", "done"],
    )
    for item in items2:
        _visit(m1, item.client, at(11, 10, 10), item)
    for r in rounds2:
        _patrol(m1, r.room, at(11, 10, 14), r)
    _visit(m1, c[1], at(11, 25, 11))  # unplanned today
    _visit(m1, c[1], at(11, 5, 11))  # unplanned this month
    _visit(m1, c[1], at(10, 31, 11))  # last month: not counted
    # a future plan is not counted
    _plan(m1, dt.date(2026, 11, 26), clients=c[:1], statuses=[S.PLANNED])
    # manager2: one planned visit today, not done
    _plan(m2, TODAY, clients=[world.client_m2], statuses=[S.PLANNED])

    st = ConsultationOrder.State
    cl = world.client_m1
    consultant = world["consultant1"]
    orders = {
        "o1": _order(m1, cl, st.DELIVERED, submitted=at(11, 24, 10), due=at(11, 24, 14), ready=at(11, 24, 11),
                     delivered=at(11, 24, 13), consultant=consultant),
        "o2": _order(m1, cl, st.DELIVERED, submitted=at(11, 25, 9, 30), due=at(11, 25, 13, 30),
                     ready=at(11, 25, 10, 30), delivered=at(11, 25, 13, 45), rework=1, consultant=consultant),
        "o3": _order(m1, cl, st.IN_ANALYSIS, submitted=at(11, 25, 10), due=at(11, 25, 11), consultant=consultant),
        "o4": _order(m1, cl, st.SUBMITTED, submitted=at(11, 25, 13), due=at(11, 25, 17)),
        "o5": _order(m1, cl, st.CANCELLED, submitted=at(11, 25, 9, 40), due=at(11, 25, 11)),
        "o6": _order(m1, cl, st.CLOSED, submitted=at(10, 20, 10), due=at(10, 20, 14), ready=at(10, 20, 11),
                     delivered=at(10, 20, 13)),
        "o7": _order(m1, cl, st.ADVICE_READY, submitted=at(11, 3, 9, 30), due=at(11, 3, 14),
                     ready=at(11, 3, 13, 30), rework=2, consultant=consultant),
        "draft": _order(m1, cl, st.DRAFT),
    }  # fmt: skip
    return orders


EXPECTED_M1 = {
    "today": {
        "visits_planned": 3,
        "visits_done": 1,
        "visits_unplanned": 1,
        "patrols_planned": 2,
        "patrols_done": 1,
        "patrols_unplanned": 1,
        "orders_open": 3,
        "orders_overdue": 2,
        "orders_due": 2,
        "orders_ontime": 0,
        "orders_late": 2,
        "orders_reviewed": 1,
        "orders_rework": 1,
    },
    "month": {
        "visits_planned": 5,
        "visits_done": 3,
        "visits_unplanned": 2,
        "patrols_planned": 4,
        "patrols_done": 3,
        "patrols_unplanned": 1,
        "orders_open": 3,
        "orders_overdue": 2,
        "orders_due": 4,
        "orders_ontime": 1,
        "orders_late": 3,
        "orders_reviewed": 3,
        "orders_rework": 2,
    },
}


def _row(dash, period, manager):
    return next(r for r in dash.figures[period] if r.manager == manager)


@pytest.mark.parametrize("period", ["today", "month"])
def test_each_metric_counts_the_known_records(world, records, period):
    dash = onsite_dashboard(branch=world.b1, now=NOW)
    assert [str(m) for m in dash.managers] == [str(world["manager1"]), str(world["manager2"])]
    assert _row(dash, period, world["manager1"]).counts == EXPECTED_M1[period]


def test_rates_and_median_turnaround(world, records):
    dash = onsite_dashboard(branch=world.b1, now=NOW)
    today, month = _row(dash, "today", world["manager1"]), _row(dash, "month", world["manager1"])
    assert today.ontime_rate == 0.0
    assert month.ontime_rate == 25.0
    assert today.rework_rate == 100.0
    assert month.rework_rate == 66.67
    # service hours (09:30–11:30, 13:00–15:00): o2 1h today; o1 1h, o2 1h, o7 2.5h this month
    assert today.turnaround_hours == 1.0
    assert month.turnaround_hours == 1.0
    m2 = _row(dash, "today", world["manager2"])
    assert m2.counts["visits_planned"] == 1 and m2.counts["visits_done"] == 0
    assert m2.ontime_rate is None and m2.rework_rate is None and m2.turnaround_hours is None
    assert dash.totals("today").counts["visits_planned"] == 4


def test_median_turnaround_of_an_even_count_and_over_lunch(world):
    m1 = world["manager1"]
    st = ConsultationOrder.State
    _order(m1, world.client_m1, st.ADVICE_READY, submitted=at(11, 25, 11), due=at(11, 25, 15),
           ready=at(11, 25, 13, 30))  # 0.5h before lunch + 0.5h after = 1h  # fmt: skip
    _order(m1, world.client_m1, st.ADVICE_READY, submitted=at(11, 24, 14), due=at(11, 25, 11),
           ready=at(11, 25, 10, 30))  # 1h on 11-24 + 1h on 11-25 = 2h  # fmt: skip
    row = _row(onsite_dashboard(branch=world.b1, now=NOW), "today", m1)
    assert row.turnaround_hours == 1.5


@pytest.mark.parametrize("period", ["today", "month"])
@pytest.mark.parametrize("metric", list(METRICS))
def test_drill_down_lists_exactly_the_records_counted(world, records, metric, period):
    dash = onsite_dashboard(branch=world.b1, now=NOW)
    for manager in (world["manager1"], world["manager2"]):
        _spec, _m, qs = drill_records(
            branch=world.b1, manager_id=manager.pk, metric=metric, period=period, now=NOW
        )
        assert qs.count() == _row(dash, period, manager).counts[metric], (manager, metric)
        assert len(list(qs)) == qs.count()


def test_drill_down_orders_are_the_right_ones(world, records):
    _s, _m, qs = drill_records(
        branch=world.b1, manager_id=world["manager1"].pk, metric="orders_overdue", period="today", now=NOW
    )
    assert set(qs) == {records["o3"], records["o7"]}
    _s, _m, qs = drill_records(
        branch=world.b1, manager_id=world["manager1"].pk, metric="orders_ontime", period="month", now=NOW
    )
    assert list(qs) == [records["o1"]]


# --- pages ---------------------------------------------------------------------------------------------

ROLES = [
    "admin",
    "director",
    "manager1",
    "manager2",
    "consultant1",
    "researcher1",
    "broker1",
    "agent1",
    "compliance1",
    "b2manager1",
    "b2director",
]


def _dash_url(**params):
    from urllib.parse import urlencode

    return f"{reverse('onsite:dashboard')}?{urlencode(params)}" if params else reverse("onsite:dashboard")


def _drill_url(world, **extra):
    from urllib.parse import urlencode

    params = {"manager": world["manager1"].pk, "metric": "visits_done", "period": "today", **extra}
    return f"{reverse('onsite:dashboard_drill')}?{urlencode(params)}"


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", ["dashboard", "dashboard_month", "dashboard_b1", "drill", "drill_b1"])
def test_dashboard_permission_matrix(world, client, key, username):
    client.force_login(world[username])
    url = {
        "dashboard": _dash_url(),
        "dashboard_month": _dash_url(period="month"),
        "dashboard_b1": _dash_url(branch=world.b1.pk),
        "drill": _drill_url(world),
        "drill_b1": _drill_url(world, branch=world.b1.pk),
    }[key]
    response = client.get(url)
    if username == "director":
        expected = 200
    elif username == "b2director":
        # own branch dashboard: 200; B001 (asked for, or manager1's records): 404
        expected = 200 if key in ("dashboard", "dashboard_month") else 404
    else:
        expected = 403
    assert response.status_code == expected, f"{username} {key}"


def test_dashboard_need_login(world, client):
    for url in (_dash_url(), _drill_url(world)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_b2director_sees_only_b002(world, login):
    response = login("b2director").get(_dash_url())
    assert response.status_code == 200
    data = response.context["chart_data"]
    assert data["managers"] == [str(world["b2manager1"])]
    assert response.context["branch"] == world.b2
    assert response.context["branches"] == []  # branch scope: no branch picker


def test_company_scope_supervisor_picks_a_branch(world, login):
    role = Role.objects.create(code="hq", name="总部督导", scope=Scope.COMPANY, capabilities=[Cap.SUPERVISE])
    UserFactory(username="hq1", branch=world.b1, roles=["hq"])
    assert role.users.count() == 1
    client = login("hq1")
    response = client.get(_dash_url(branch=world.b2.pk))
    assert response.status_code == 200
    assert response.context["branch"] == world.b2
    assert [b.code for b in response.context["branches"]] == ["B001", "B002"]
    assert 'name="branch"' in response.content.decode()


def test_dashboard_page_renders_table_chart_data_and_drill_links(world, records, login):
    client = login("director")
    response = client.get(_dash_url(period="month"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="dashboard-data" type="application/json"' in body
    assert "onsite/dashboard.js" in body and "echarts.min.js" in body
    assert "<script>" not in body  # no inline executable script under the CSP
    data = response.context["chart_data"]
    assert [c["id"] for c in data["charts"]] == [
        "chart-visits",
        "chart-patrols",
        "chart-orders",
        "chart-quality",
    ]
    series = data["charts"][0]["series"]
    assert series[0]["name"] == "计划拜访"
    drill = series[0]["urls"][0]
    assert "metric=visits_planned" in drill and "period=month" in drill
    assert 'id="dashboard-table"' in body


def test_drill_page_lists_the_records(world, records, login):
    client = login("director")
    now = timezone.now()
    # records are dated relative to NOW (2026-11-25); count in the page equals the selector's count
    _spec, _m, qs = drill_records(
        branch=world.b1, manager_id=world["manager1"].pk, metric="visits_unplanned", period="month", now=now
    )
    response = client.get(_drill_url(world, metric="visits_unplanned", period="month"))
    assert response.status_code == 200
    assert response.context["count"] == qs.count()
    assert len(response.context["records"]) == qs.count()
    assert "计划外拜访" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"metric": "nope"}, {"period": "year"}, {"manager": "abc"}, {"manager": "999999"}],
)
def test_drill_bad_parameters_are_404(world, login, params):
    assert login("director").get(_drill_url(world, **params)).status_code == 404


def test_drill_of_a_non_manager_is_404(world, login):
    assert login("director").get(_drill_url(world, manager=world["consultant1"].pk)).status_code == 404


# --- query counts ----------------------------------------------------------------------------------------


def _many_managers(world, n):
    role_managers = [world["manager1"], world["manager2"]]
    for i in range(n - len(role_managers)):
        role_managers.append(UserFactory(username=f"qm{i}", branch=world.b1, roles=["manager"]))
    room = RoomFactory(branch=world.b1)
    for m in role_managers:
        c = ClientFactory(branch=world.b1, manager=m)
        _p, items, rounds = _plan(
            m, TODAY, clients=[c], statuses=[VisitPlanItem.Status.DONE], rooms=[room], room_statuses=["done"]
        )
        _visit(m, c, at(11, 25, 10), items[0])
        _patrol(m, room, at(11, 25, 10), rounds[0])
        _order(m, c, ConsultationOrder.State.DELIVERED, submitted=at(11, 25, 9, 30), due=at(11, 25, 13),
               ready=at(11, 25, 10), delivered=at(11, 25, 11), rework=1)  # fmt: skip
    return role_managers


SELECTOR_BOUND = 11
PAGE_BOUND = 20


@pytest.mark.parametrize("n", [3, 12])
def test_dashboard_query_count_does_not_grow_with_managers(world, n, django_assert_max_num_queries):
    _many_managers(world, n)
    with django_assert_max_num_queries(SELECTOR_BOUND):
        dash = onsite_dashboard(branch=world.b1, now=NOW)
    assert len(dash.managers) == n
    assert all(r.counts["visits_done"] == 1 for r in dash.figures["today"])


@pytest.mark.parametrize("n", [3, 12])
def test_dashboard_page_query_count_does_not_grow_with_managers(
    world, login, n, django_assert_max_num_queries
):
    _many_managers(world, n)
    client = login("director")
    client.get(_dash_url(period="month"))  # warm per-process caches (calendar)
    with django_assert_max_num_queries(PAGE_BOUND):
        response = client.get(_dash_url(period="month"))
    assert len(json.loads(json.dumps(response.context["chart_data"]))["managers"]) == n
