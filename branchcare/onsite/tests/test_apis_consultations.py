"""Consultation order API: scoping, transitions with refusals, advice with suitability."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from branchcare.onsite import services_consultations as svc
from branchcare.onsite.models import ConsultationOrder
from branchcare.testing.factories import HoldingFactory, SecurityFactory

S = ConsultationOrder.State


@pytest.fixture
def api(world):
    def _as(username: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(world[username])
        return c

    return _as


@pytest.fixture
def setup(world):
    consultant = world["consultant1"]
    consultant.practice_no = "A0120612345678"
    consultant.save(update_fields=["practice_no"])
    sec = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    risky = SecurityFactory(code="688981", name="中芯国际", risk_rating="R5")
    HoldingFactory(client=world.client_m1, security=sec, quantity=1000, cost_price=Decimal("35"))
    return {"sec": sec, "risky": risky}


def test_api_walk(world, setup, api):
    manager, consultant = api("manager1"), api("consultant1")
    created = manager.post(
        "/api/v1/consultations/", {"client": world.client_m1.pk, "question": "如何调仓？"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["holdings"][0]["code"] == "600036"
    assert created.json()["actions"] == ["submit", "cancel"]
    r = manager.post(f"/api/v1/consultations/{pk}/transitions/submit/", {}, format="json")
    assert (
        r.status_code == 200
        and r.json()["state"] == S.SUBMITTED
        and r.json()["consultant"]["id"] == world["consultant1"].pk
    )
    line = {"security": setup["sec"].pk, "action": "hold", "rationale": "持有"}
    blocked = consultant.post(
        f"/api/v1/consultations/{pk}/advice/",
        {
            "overall": "x",
            "lines": [line, {"security": setup["risky"].pk, "action": "buy", "rationale": "看好"}],
        },
        format="json",
    )
    assert blocked.status_code == 400 and "688981" in str(blocked.json())
    ok = consultant.post(
        f"/api/v1/consultations/{pk}/advice/",
        {"overall": "持有为主", "lines": [line], "submit": True},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["version"] == 1
    assert (
        manager.post(
            f"/api/v1/consultations/{pk}/transitions/return_for_rework/", {}, format="json"
        ).status_code
        == 400
    )
    r = manager.post(
        f"/api/v1/consultations/{pk}/transitions/return_for_rework/", {"note": "补充"}, format="json"
    )
    assert r.json()["rework_count"] == 1
    consultant.post(
        f"/api/v1/consultations/{pk}/advice/",
        {"overall": "v2", "lines": [line], "submit": True},
        format="json",
    )
    assert (
        manager.post(f"/api/v1/consultations/{pk}/transitions/accept/", {}, format="json").status_code == 200
    )
    manager.post(
        f"/api/v1/consultations/{pk}/transitions/deliver/",
        {"delivery_method": "phone", "client_response": "好"},
        format="json",
    )
    r = consultant.post(f"/api/v1/consultations/{pk}/transitions/deliver/", {}, format="json")
    assert r.json()["state"] == S.DELIVERED
    assert [a["version"] for a in r.json()["advices"]] == [2, 1]


def test_api_scoping_and_refusals(world, setup, api):
    order = svc.order_create(actor=world["manager1"], client=world.client_m1, question="q")
    svc.order_submit(actor=world["manager1"], order=order)
    assert api("manager2").get(f"/api/v1/consultations/{order.pk}/").status_code == 404
    assert api("b2manager1").get(f"/api/v1/consultations/{order.pk}/").status_code == 404
    assert api("director").get(f"/api/v1/consultations/{order.pk}/").status_code == 200
    assert api("agent1").get("/api/v1/consultations/").status_code == 403
    assert (
        api("consultant1")
        .post("/api/v1/consultations/", {"client": world.client_m1.pk, "question": "q"}, format="json")
        .status_code
        == 403
    )
    assert (
        api("manager1")
        .post("/api/v1/consultations/", {"client": world.client_m2.pk, "question": "q"}, format="json")
        .status_code
        == 404
    )
    # the manager cannot take the consultant's step: 403, nothing changes
    r = api("manager1").post(
        f"/api/v1/consultations/{order.pk}/transitions/start_analysis/", {}, format="json"
    )
    assert r.status_code == 403
    assert ConsultationOrder.objects.get(pk=order.pk).state == S.SUBMITTED
    assert (
        api("manager1")
        .post(f"/api/v1/consultations/{order.pk}/transitions/nope/", {}, format="json")
        .status_code
        == 404
    )
    assert (
        api("manager1").post(f"/api/v1/consultations/{order.pk}/advice/", {}, format="json").status_code
        == 403
    )
    listing = api("consultant1").get("/api/v1/consultations/?mine=1")
    assert [o["id"] for o in listing.json()["results"]] == [order.pk]
    assert api("manager2").get("/api/v1/consultations/").json()["results"] == []
