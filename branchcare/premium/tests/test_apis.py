"""Premium API: the role × route matrix, the request round trip with a researcher, enrolment and briefings."""

from __future__ import annotations

import pytest

from branchcare.api.testing import api_client
from branchcare.clients.models import Client
from branchcare.premium import services as svc
from branchcare.premium.models import BriefingItem, PremiumRequest

from .test_views import USERS

P = "/api/v1/premium"


@pytest.fixture
def objs(world, premium, requests_, briefing_world):
    r1 = requests_["r1"]
    answered = svc.question_ask(actor=world["broker1"], req=r1, question="分红预期？")
    svc.question_answer(actor=world["researcher1"], question=answered, answer="约 5%")
    open_q = svc.question_ask(
        actor=world["broker1"], req=PremiumRequest.objects.get(pk=r1.pk), question="估值？"
    )
    return {
        "r1": r1.pk, "rb2": requests_["rb2"].pk, "answered": answered.pk, "open_q": open_q.pk,
        "e1": premium["e1"].pk, "e2": premium["e2"].pk, "entry": briefing_world["entry"].pk,
    }  # fmt: skip


def _routes(o, world):
    return {
        "enrolments": ("get", f"{P}/enrolments/", None),
        "enrol": ("post", f"{P}/enrolments/", {"client": world.client_m2.pk, "broker": world["broker1"].pk, "tier": "gold",
                                               "agreement_no": "A-1", "signed_on": "2026-11-20", "effective_on": "2026-11-20"}),
        "enrolment": ("get", f"{P}/enrolments/{o['e1']}/", None),
        "enrolment_b2": ("get", f"{P}/enrolments/{o['e2']}/", None),
        "downgrade": ("post", f"{P}/enrolments/{o['e1']}/downgrade/", {"tier": "silver", "effective_on": "2026-11-20", "reason": "r"}),
        "exit": ("post", f"{P}/enrolments/{o['e1']}/exit/", {"ended_on": "2026-11-20", "reason": "r"}),
        "rates": ("get", f"{P}/rates/", None),
        "rate_add": ("post", f"{P}/rates/", {"tier": "gold", "commission_rate": "0.7000", "effective_from": "2030-01-01"}),
        "requests": ("get", f"{P}/requests/", None),
        "request_create": ("post", f"{P}/requests/", {"client": world.client_m1.pk, "channel": "phone", "subject": "s", "body": "b"}),
        "request": ("get", f"{P}/requests/{o['r1']}/", None),
        "request_b2": ("get", f"{P}/requests/{o['rb2']}/", None),
        "message": ("post", f"{P}/requests/{o['r1']}/messages/", {"text": "x", "to_client": False}),
        "transition": ("post", f"{P}/requests/{o['r1']}/transitions/reopen/", {"note": "x"}),
        "ask": ("post", f"{P}/requests/{o['r1']}/questions/", {"question": "q"}),
        "questions": ("get", f"{P}/research-questions/", None),
        "answer": ("post", f"{P}/research-questions/{o['open_q']}/answer/", {"answer": "a"}),
        "relay": ("post", f"{P}/research-questions/{o['answered']}/relay/", {}),
        "briefing": ("get", f"{P}/briefings/", None),
        "briefing_generate": ("post", f"{P}/briefings/", {}),
        "explain": ("post", f"{P}/briefing-items/{o['entry']}/explain/", {}),
    }  # fmt: skip


DESK = {"director": 200, "broker1": 200, "b2director": 200}
B1 = {"director": 200, "broker1": 200, "b2director": 404}
EXPECTED = {
    "enrolments": DESK,
    "enrol": {"director": 201, "b2director": 404},
    "enrolment": B1,
    "enrolment_b2": {"director": 404, "broker1": 404, "b2director": 200},
    "downgrade": {"director": 201, "b2director": 404},
    "exit": {"director": 200, "b2director": 404},
    "rates": DESK,
    "rate_add": {"director": 201, "b2director": 201},
    "requests": DESK,
    "request_create": {"director": 201, "broker1": 201, "b2director": 404},
    "request": B1,
    "request_b2": {"director": 404, "broker1": 404, "b2director": 200},
    "message": {"director": 201, "broker1": 201, "b2director": 404},
    "transition": {
        "director": 400,
        "broker1": 400,
        "b2director": 404,
    },  # reopen is not allowed while awaiting research
    "ask": {"director": 400, "broker1": 400, "b2director": 404},  # already awaiting research
    "questions": {**DESK, "researcher1": 200},
    "answer": {"researcher1": 200},
    "relay": {"director": 200, "broker1": 200, "b2director": 404},
    "briefing": {"broker1": 200},
    "briefing_generate": {"broker1": 200},
    "explain": {"broker1": 200},
}
CASES = [(user, key, EXPECTED[key].get(user, 403)) for key in EXPECTED for user in [*USERS, None]]


@pytest.mark.parametrize(("user", "key", "expected"), CASES)
def test_api_permission_matrix(objs, world, user, key, expected):
    method, url, data = _routes(objs, world)[key]
    api = api_client(world[user] if user else None)
    response = api.post(url, data, format="json") if method == "post" else api.get(url)
    assert response.status_code == (401 if user is None else expected), (
        user,
        key,
        response.status_code,
        response.content[:200],
    )


def test_api_round_trip_with_researcher(world, premium):
    broker, researcher = api_client(world["broker1"]), api_client(world["researcher1"])
    r = broker.post(
        f"{P}/requests/",
        {"client": world.client_m1.pk, "channel": "wecom", "subject": "问新能源", "body": "仓位?"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["state"] == "new" and r.json()["actions"] == ["start"]
    pk = r.json()["id"]
    assert (
        broker.post(f"{P}/requests/{pk}/transitions/start/", {"note": "收到"}, format="json").json()["state"]
        == "in_progress"
    )
    q = broker.post(
        f"{P}/requests/{pk}/questions/",
        {"question": "新能源板块观点？", "researcher": world["researcher1"].pk},
        format="json",
    )
    assert q.status_code == 201
    qid = q.json()["id"]
    pending = researcher.get(f"{P}/research-questions/?pending=1").json()["results"]
    assert [x["id"] for x in pending] == [qid]
    assert (
        researcher.post(
            f"{P}/research-questions/{qid}/answer/", {"answer": "中性"}, format="json"
        ).status_code
        == 200
    )
    bad = broker.post(f"{P}/requests/{pk}/transitions/resolve/", {"note": "ok"}, format="json")
    assert bad.status_code == 400 and "转达" in str(bad.json())
    assert broker.post(f"{P}/research-questions/{qid}/relay/", {}, format="json").status_code == 200
    done = broker.post(f"{P}/requests/{pk}/transitions/resolve/", {"note": "已说明"}, format="json").json()
    assert done["state"] == "resolved"
    closed = broker.post(f"{P}/requests/{pk}/transitions/close/", {"satisfaction": 4}, format="json").json()
    assert closed["state"] == "closed" and closed["satisfaction"] == 4
    assert [m["kind"] for m in closed["messages"]] == ["reply", "question", "answer", "relay", "reply"]


def test_api_enrol_validation_is_chinese_and_changes_nothing(world, premium):
    api = api_client(world["director"])
    r = api.post(f"{P}/enrolments/", {"client": world.client_m2.pk, "broker": world["manager1"].pk, "tier": "gold",
                                      "agreement_no": "A", "signed_on": "2026-11-20", "effective_on": "2026-11-20"}, format="json")  # fmt: skip
    assert r.status_code == 400 and "经纪人" in str(r.json()["broker"])
    assert not Client.objects.get(pk=world.client_m2.pk).is_premium


def test_api_briefing_explain_records_delivery(world, premium, briefing_world):
    from branchcare.research.models import ResearchDelivery

    api = api_client(world["broker1"])
    data = api.get(f"{P}/briefings/").json()
    assert [i["item_title"] for i in data["items"]] == ["招商银行：维持买入"]
    entry = data["items"][0]["id"]
    assert (
        api.post(f"{P}/briefing-items/{entry}/explain/", {"note": "电话讲解"}, format="json").status_code
        == 200
    )
    delivery = ResearchDelivery.objects.get(client=world.client_m1, channel="briefing")
    assert BriefingItem.objects.get(pk=entry).delivery_id == delivery.pk
    again = api.post(f"{P}/briefing-items/{entry}/explain/", {}, format="json")
    assert again.status_code == 400


def test_api_list_query_counts(objs, world, django_assert_max_num_queries):
    for i in range(10):
        svc.request_create(
            actor=world["broker1"], client=world.client_m1, channel="phone", subject=f"s{i}", body="b"
        )
    for user, url in (("director", f"{P}/requests/"), ("director", f"{P}/enrolments/"), ("researcher1", f"{P}/research-questions/"),
                      ("broker1", f"{P}/requests/{objs['r1']}/"), ("director", f"{P}/rates/")):  # fmt: skip
        api = api_client(world[user])
        with django_assert_max_num_queries(12):
            assert api.get(url).status_code == 200, url


def test_openapi_schema_lists_premium_routes(world):
    schema = api_client(world["director"]).get("/api/schema/?format=json").json()
    for route in ("/api/v1/premium/enrolments/", "/api/v1/premium/requests/{id}/transitions/{name}/",
                  "/api/v1/premium/research-questions/", "/api/v1/premium/briefings/", "/api/v1/premium/rates/"):  # fmt: skip
        assert route in schema["paths"], route
