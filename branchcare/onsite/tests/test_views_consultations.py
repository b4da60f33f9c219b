"""Consultation pages: the permission matrix (role × URL) and bounded query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from branchcare.onsite import services_consultations as svc
from branchcare.onsite.models import ConsultationOrder
from branchcare.testing.factories import ClientFactory, HoldingFactory, SecurityFactory

S = ConsultationOrder.State


@pytest.fixture
def orders(world):
    consultant = world["consultant1"]
    consultant.practice_no = "A0120612345678"
    consultant.save(update_fields=["practice_no"])
    sec = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    HoldingFactory(client=world.client_m1, security=sec, quantity=1000, cost_price=Decimal("35"))
    draft = svc.order_create(actor=world["manager1"], client=world.client_m1, question="草稿问题")
    submitted = svc.order_create(actor=world["manager1"], client=world.client_m1, question="提交问题")
    svc.order_submit(actor=world["manager1"], order=submitted)
    svc.advice_save(
        actor=consultant,
        order=ConsultationOrder.objects.get(pk=submitted.pk),
        overall="持有",
        risk_warning=svc.RISK_WARNING_DEFAULT,
        lines=[svc.LineInput(sec.pk, "hold", "估值合理")],
    )
    b2 = svc.order_create(actor=world["b2manager1"], client=world.client_b2, question="杭州客户")
    return {"draft": draft, "submitted": submitted, "b2": b2, "sec": sec}


def _urls(orders, world):
    d, s, b2 = orders["draft"].pk, orders["submitted"].pk, orders["b2"].pk
    return {
        "list": ("get", reverse("onsite:consultations")),
        "new": ("get", reverse("onsite:consultation_new") + f"?client={world.client_m1.pk}"),
        "new_other_client": ("get", reverse("onsite:consultation_new") + f"?client={world.client_m2.pk}"),
        "detail": ("get", reverse("onsite:consultation_detail", args=[s])),
        "detail_draft": ("get", reverse("onsite:consultation_detail", args=[d])),
        "detail_b2": ("get", reverse("onsite:consultation_detail", args=[b2])),
        "edit": ("get", reverse("onsite:consultation_edit", args=[d])),
        "advice": ("get", reverse("onsite:consultation_advice", args=[s])),
        "pdf": ("get", reverse("onsite:consultation_pdf", args=[s])),
        "transition_b2": ("post", reverse("onsite:consultation_transition", args=[b2])),
        "cite": ("get", reverse("onsite:consultation_cite_search", args=[s]) + "?q=银行"),
        "cite_row": ("get", reverse("onsite:consultation_cite_row", args=[s]) + "?item=999999"),
        "cite_b2": ("get", reverse("onsite:consultation_cite_search", args=[b2])),
    }


# expected status per (url key) for each role; 302 for a redirect after a refused step is not used here
MATRIX = {
    "manager1": {
        "list": 200, "new": 200, "new_other_client": 404, "detail": 200, "detail_draft": 200,
        "detail_b2": 404, "edit": 200, "advice": 403, "pdf": 200, "transition_b2": 404,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
    "manager2": {
        "list": 200, "new": 404, "new_other_client": 200, "detail": 404, "detail_draft": 404,
        "detail_b2": 404, "edit": 404, "advice": 403, "pdf": 404, "transition_b2": 404,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
    "consultant1": {
        "list": 200, "new": 403, "new_other_client": 403, "detail": 200, "detail_draft": 404,
        "detail_b2": 404, "edit": 403, "advice": 200, "pdf": 200, "transition_b2": 404,
        "cite": 200, "cite_row": 200, "cite_b2": 404,
    },
    "director": {
        "list": 200, "new": 403, "new_other_client": 403, "detail": 200, "detail_draft": 200,
        "detail_b2": 404, "edit": 403, "advice": 403, "pdf": 200, "transition_b2": 404,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
    "compliance1": {
        "list": 200, "new": 403, "new_other_client": 403, "detail": 200, "detail_draft": 404,
        "detail_b2": 404, "edit": 403, "advice": 403, "pdf": 200, "transition_b2": 404,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
    "b2manager1": {
        "list": 200, "new": 404, "new_other_client": 404, "detail": 404, "detail_draft": 404,
        "detail_b2": 200, "edit": 404, "advice": 403, "pdf": 404, "transition_b2": 302,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
    "agent1": {
        "list": 403, "new": 403, "new_other_client": 403, "detail": 403, "detail_draft": 403,
        "detail_b2": 403, "edit": 403, "advice": 403, "pdf": 403, "transition_b2": 403,
        "cite": 403, "cite_row": 403, "cite_b2": 403,
    },
}  # fmt: skip
CASES = [(role, key, code) for role, row in MATRIX.items() for key, code in row.items()]


@pytest.mark.parametrize(("role", "key", "expected"), CASES)
def test_permission_matrix(orders, world, login, role, key, expected):
    method, url = _urls(orders, world)[key]
    client = login(role)
    response = client.post(url, {"name": "cancel", "note": "测试"}) if method == "post" else client.get(url)
    assert response.status_code == expected, (role, key, response.status_code)


def test_anonymous_is_sent_to_login(orders, client):
    response = client.get(reverse("onsite:consultation_detail", args=[orders["submitted"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pdf_is_a_pdf(orders, login):
    response = login("manager1").get(reverse("onsite:consultation_pdf", args=[orders["submitted"].pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_transition_by_the_wrong_person_is_403_and_changes_nothing(orders, login):
    order = orders["submitted"]
    url = reverse("onsite:consultation_transition", args=[order.pk])
    assert login("manager1").post(url, {"name": "accept"}).status_code == 302  # advice not yet submitted
    assert ConsultationOrder.objects.get(pk=order.pk).state == S.IN_ANALYSIS
    assert login("consultant1").post(url, {"name": "cancel", "note": "x"}).status_code == 403
    assert ConsultationOrder.objects.get(pk=order.pk).state == S.IN_ANALYSIS


def test_ui_walk_submit_advice_accept(orders, world, login):
    order = orders["submitted"]
    consultant = login("consultant1")
    response = consultant.post(
        reverse("onsite:consultation_advice", args=[order.pk]),
        {
            f"action_{orders['sec'].pk}": "add",
            f"rationale_{orders['sec'].pk}": "低估",
            "overall": "适度加仓",
            "risk_warning": svc.RISK_WARNING_DEFAULT,
            "submit": "1",
        },
    )
    assert response.status_code == 302
    assert ConsultationOrder.objects.get(pk=order.pk).state == S.ADVICE_READY
    detail = login("manager1").get(reverse("onsite:consultation_detail", args=[order.pk]))
    assert "退回修改" in detail.content.decode() and "通过复核" in detail.content.decode()


def test_advice_form_shows_suitability_block(orders, world, login):
    risky = SecurityFactory(code="688981", name="中芯国际", risk_rating="R5")
    order = orders["submitted"]
    response = login("consultant1").post(
        reverse("onsite:consultation_advice", args=[order.pk]),
        {
            f"action_{orders['sec'].pk}": "hold",
            f"rationale_{orders['sec'].pk}": "持有",
            "extra_code_0": risky.code,
            "extra_action_0": "buy",
            "extra_rationale_0": "看好",
            "overall": "x",
            "risk_warning": "y",
        },
    )
    assert response.status_code == 200
    assert "688981 中芯国际" in response.content.decode()
    assert order.advices.count() == 1


def test_list_and_queue_query_counts_are_bounded(orders, world, login, django_assert_max_num_queries):
    for i in range(15):
        c = ClientFactory(branch=world.b1, manager=world["manager1"], name=f"客户{i}")
        o = svc.order_create(actor=world["manager1"], client=c, question=f"问题{i}")
        if i % 2:
            svc.order_submit(actor=world["manager1"], order=o, now=dt.datetime.now(dt.UTC))
    for role in ("manager1", "consultant1", "director"):
        client = login(role)
        with django_assert_max_num_queries(12):
            response = client.get(reverse("onsite:consultations") + "?overdue=0")
        assert response.status_code == 200


def test_detail_query_count_is_bounded(orders, login, django_assert_max_num_queries):
    client = login("manager1")
    with django_assert_max_num_queries(30):
        assert (
            client.get(reverse("onsite:consultation_detail", args=[orders["submitted"].pk])).status_code
            == 200
        )


@pytest.mark.parametrize("name", ["onsite:consultation_cite_search", "onsite:consultation_cite_row"])
def test_anonymous_cite_endpoints_go_to_login(orders, client, name):
    response = client.get(reverse(name, args=[orders["submitted"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
