"""API of visit plans, visits, patrols, rooms and follow-ups: scoping, writes through the services, schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.api.testing import api_client
from branchcare.onsite.models import FollowUp, Patrol, Visit, VisitPlanItem
from branchcare.onsite.services_plans import plan_generate_for_manager
from branchcare.testing.factories import RoomFactory, SeatFactory


def _at(minutes=5):
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def data(world):
    now = timezone.now() - dt.timedelta(minutes=10)
    out = {}
    for key, username, client in (("m1", "manager1", world.client_m1), ("b2", "b2manager1", world.client_b2)):
        user = world[username]
        room = RoomFactory(branch=user.branch)
        plan = plan_generate_for_manager(manager=user, date=timezone.localdate())
        visit = Visit.objects.create(branch=user.branch, manager=user, client=client, at=now, topic="t")
        patrol = Patrol.objects.create(branch=user.branch, manager=user, room=room, at=now)
        fu = FollowUp.objects.create(branch=user.branch, owner=user, description="d", due_on=now.date())
        out[key] = {"plan": plan, "visit": visit, "patrol": patrol, "fu": fu, "room": room}
    return out


@pytest.mark.parametrize("resource", ["visit-plans", "visits", "patrols"])
def test_detail_scoping(world, data, resource):
    key = {"visit-plans": "plan", "visits": "visit", "patrols": "patrol"}[resource]
    own, other = data["m1"][key].pk, data["b2"][key].pk
    m1 = api_client(world["manager1"])
    assert m1.get(f"/api/v1/{resource}/{own}/").status_code == 200
    assert m1.get(f"/api/v1/{resource}/{other}/").status_code == 404
    assert api_client(world["manager2"]).get(f"/api/v1/{resource}/{own}/").status_code == 404
    assert api_client(world["director"]).get(f"/api/v1/{resource}/{own}/").status_code == 200
    assert api_client(world["director"]).get(f"/api/v1/{resource}/{other}/").status_code == 404
    assert api_client(world["agent1"]).get(f"/api/v1/{resource}/").status_code == 403
    assert api_client().get(f"/api/v1/{resource}/").status_code == 401
    assert m1.get(f"/api/v1/{resource}/abc/").status_code == 404


def test_lists_are_scoped(world, data):
    m1 = api_client(world["manager1"])
    assert [v["id"] for v in m1.get("/api/v1/visits/").json()["results"]] == [data["m1"]["visit"].pk]
    plans = m1.get("/api/v1/visit-plans/", {"date": str(timezone.localdate())}).json()["results"]
    assert len(plans) == 1 and plans[0]["items"][0]["reasons"]
    director = api_client(world["director"]).get("/api/v1/visit-plans/").json()
    assert director["count"] == 1  # only manager1 has a plan in B001 here
    rooms = m1.get("/api/v1/rooms/").json()["results"]
    assert [r["id"] for r in rooms] == [data["m1"]["room"].pk]
    assert api_client(world["manager2"]).get("/api/v1/visits/").json()["count"] == 0


def test_create_visit_through_the_service(world, data):
    m1 = api_client(world["manager1"])
    response = m1.post(
        "/api/v1/visits/",
        {"client": world.client_m1.pk, "at": _at(), "topic": "问候", "satisfaction": 4,
         "followups": [{"description": "寄送研报"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["planned"] is True
    assert VisitPlanItem.objects.get(client=world.client_m1).status == VisitPlanItem.Status.DONE
    assert FollowUp.objects.filter(visit_id=response.json()["id"]).exists()


def test_create_visit_refusals(world, data):
    m1 = api_client(world["manager1"])
    before = Visit.objects.count()
    out = m1.post("/api/v1/visits/", {"client": world.client_m2.pk, "at": _at(), "topic": "x"}, format="json")
    assert out.status_code == 400 and "client" in out.json()
    future = m1.post(
        "/api/v1/visits/",
        {"client": world.client_m1.pk, "at": _at(minutes=-60), "topic": "x"},
        format="json",
    )
    assert future.status_code == 400 and "不能晚于当前时间" in str(future.json())
    assert Visit.objects.count() == before


def test_create_patrol_with_problems(world, data):
    room = data["m1"]["room"]
    seated = world.client_m1
    seated.seat = SeatFactory(room=room)
    seated.save()
    response = api_client(world["manager1"]).post(
        "/api/v1/patrols/",
        {"room": room.pk, "at": _at(), "observations": "ok", "clients_present": [seated.pk],
         "problems": [{"kind": "equipment", "description": "空调不制冷"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["plan_item"] is not None and body["follow_ups"][0]["description"] == "空调不制冷"
    other = api_client(world["manager1"]).post(
        "/api/v1/patrols/", {"room": data["b2"]["room"].pk, "at": _at()}, format="json"
    )
    assert other.status_code == 400


def test_follow_up_complete(world, data):
    fu = data["m1"]["fu"]
    assert (
        api_client(world["manager1"])
        .post(f"/api/v1/follow-ups/{data['b2']['fu'].pk}/complete/", {"resolution": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        api_client(world["manager2"])
        .post(f"/api/v1/follow-ups/{fu.pk}/complete/", {"resolution": "x"}, format="json")
        .status_code
        == 404
    )
    ok = api_client(world["manager1"]).post(
        f"/api/v1/follow-ups/{fu.pk}/complete/", {"resolution": "已处理"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["state"] == "done"


def test_schema_lists_the_endpoints(world):
    schema = api_client(world["manager1"]).get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/visit-plans/", "/api/v1/visits/{id}/", "/api/v1/patrols/", "/api/v1/rooms/",
                 "/api/v1/follow-ups/{id}/complete/"):  # fmt: skip
        assert path in schema["paths"], path


def test_create_visit_with_consultation_order(world, data):
    from branchcare.onsite.models import ConsultationOrder

    m1 = api_client(world["manager1"])
    response = m1.post(
        "/api/v1/visits/",
        {"client": world.client_m1.pk, "at": _at(), "topic": "问候", "consultation_question": "还能加仓吗？"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    order = ConsultationOrder.objects.get()
    assert response.json()["consultation_orders"] == [order.pk] and order.visit_id == response.json()["id"]
    listed = m1.get("/api/v1/visits/").json()["results"]
    assert [v["consultation_orders"] for v in listed if v["id"] == order.visit_id] == [[order.pk]]


def test_director_cannot_raise_order_for_a_managers_visit(world, data):
    from branchcare.onsite.models import ConsultationOrder

    director = api_client(world["director"])
    before = Visit.objects.count()
    response = director.post(
        "/api/v1/visits/",
        {"client": world.client_m1.pk, "at": _at(), "topic": "问候", "consultation_question": "问题"},
        format="json",
    )
    assert response.status_code == 400 and "咨询单" in str(response.json())
    assert Visit.objects.count() == before and not ConsultationOrder.objects.exists()


@pytest.mark.parametrize("resource", ["visits", "patrols"])
def test_director_backfill_limited_to_a_year(world, data, resource):
    # found by Schemathesis: a director's visit "in 1850" was stored and answered with the local mean time
    # offset +08:05:43, which is no RFC 3339 date-time (the documented format of `at`)
    director = api_client(world["director"])
    body = (
        {"client": world.client_m1.pk, "topic": "补录"}
        if resource == "visits"
        else {"room": data["m1"]["room"].pk}
    )
    before = Visit.objects.count() + Patrol.objects.count()
    old = director.post(f"/api/v1/{resource}/", {**body, "at": "1850-01-01T00:00:00Z"}, format="json")
    assert old.status_code == 400 and "一年内" in str(old.json())
    ok = director.post(
        f"/api/v1/{resource}/",
        {**body, "at": (timezone.now() - dt.timedelta(days=30)).isoformat()},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert "+08:00" in ok.json()["at"]
    assert Visit.objects.count() + Patrol.objects.count() == before + 1
