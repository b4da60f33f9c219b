"""Off-site API: the screen pop, inquiries with transitions, return visits, rules and campaigns; the
role × route matrix and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.utils import timezone

from branchcare.api.testing import api_client
from branchcare.offsite import services_campaigns as campaigns
from branchcare.offsite import services_inquiries as inq
from branchcare.offsite import services_visits as visits
from branchcare.offsite.models import CallRecord, Inquiry, ReturnVisit

pytestmark = pytest.mark.django_db

USERS = [
    "admin", "director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip


def test_screen_pop_matches_the_client_and_masks_for_the_agent(world):
    api = api_client(world["agent1"])
    r = api.post("/api/v1/calls/incoming", {"phone": "13812345678"}, format="json")
    assert r.status_code == 201, r.content
    card = r.json()["card"]
    assert card["known"] and card["client_id"] == world.client_m1.pk and card["name"] == "张三"
    assert card["phone"] == "138****5678" and card["id_number"] == "3101**********1234"
    call = CallRecord.objects.get(pk=r.json()["call"]["id"])
    assert call.agent == world["agent1"] and call.client == world.client_m1 and call.ended_at is None


def test_screen_pop_unknown_caller_and_other_branch(world):
    api = api_client(world["agent1"])
    r = api.post("/api/v1/calls/incoming", {"phone": world.client_b2.phone}, format="json")
    assert r.status_code == 201 and r.json()["card"]["known"] is False
    assert CallRecord.objects.get().client is None


def test_screen_pop_for_another_agent_and_refusals(world):
    from branchcare.testing.factories import UserFactory

    cti = UserFactory(username="cti", branch=world.b1, roles=["agent"])
    r = api_client(cti).post(
        "/api/v1/calls/incoming", {"phone": "13812345678", "agent": "agent1"}, format="json"
    )
    assert r.status_code == 201 and CallRecord.objects.get().agent == world["agent1"]
    bad = api_client(cti).post(
        "/api/v1/calls/incoming", {"phone": "13812345678", "agent": "manager1"}, format="json"
    )
    assert bad.status_code == 400 and "agent" in bad.json()
    assert api_client(cti).post("/api/v1/calls/incoming", {"phone": "12"}, format="json").status_code == 400
    assert CallRecord.objects.count() == 1
    assert (
        api_client(world["director"])
        .post("/api/v1/calls/incoming", {"phone": "13812345678"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_client().post("/api/v1/calls/incoming", {"phone": "13812345678"}, format="json").status_code
        == 401
    )


def test_inquiry_api_create_and_transitions(world):
    api = api_client(world["agent1"])
    r = api.post(
        "/api/v1/offsite/inquiries/",
        {"kind": "complaint", "subject": "行情延迟", "client_lookup": world.client_m1.client_no},
        format="json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["client"] == world.client_m1.pk and r.json()["regulatory_due"]
    r = api.post(
        f"/api/v1/offsite/inquiries/{pk}/transitions/assign/",
        {"assignee": world["manager2"].pk},
        format="json",
    )
    assert r.status_code == 400 and "assignee" in r.json()
    r = api.post(
        f"/api/v1/offsite/inquiries/{pk}/transitions/assign/",
        {"assignee": world["manager1"].pk},
        format="json",
    )
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    m1 = api_client(world["manager1"])
    assert m1.get(f"/api/v1/offsite/inquiries/{pk}/").json()["actions"] == ["start", "resolve"]
    assert (
        m1.post(
            f"/api/v1/offsite/inquiries/{pk}/transitions/resolve/", {"note": ""}, format="json"
        ).status_code
        == 400
    )
    r = m1.post(f"/api/v1/offsite/inquiries/{pk}/transitions/resolve/", {"note": "已处理"}, format="json")
    assert r.json()["state"] == "resolved"
    r = api.post(
        f"/api/v1/offsite/inquiries/{pk}/transitions/close/", {"client_confirmed": True}, format="json"
    )
    assert r.json()["state"] == "closed"
    r = api.post(f"/api/v1/offsite/inquiries/{pk}/survey/", {"score": 5}, format="json")
    assert r.status_code == 200 and r.json()["survey_score"] == 5
    # the closed complaint generated its follow-up return visit
    assert ReturnVisit.objects.filter(client=world.client_m1, rule__kind="complaint_closed").exists()
    # compliance sees complaints only
    listed = api_client(world["compliance1"]).get("/api/v1/offsite/inquiries/").json()
    assert [x["id"] for x in listed["results"]] == [pk]
    assert api.post(f"/api/v1/offsite/inquiries/{pk}/transitions/nope/", {}, format="json").status_code == 404


def test_return_visit_api_attempts_and_independence(world):
    visit = ReturnVisit.objects.create(
        branch=world.b1, rule=visits.rules_for(world.b1.pk)[0], client=world.client_m1, assignee=world["agent1"],
        due_on=timezone.localdate(),
    )  # fmt: skip
    d = api_client(world["director"])
    r = d.post(
        f"/api/v1/offsite/return-visits/{visit.pk}/assign/", {"assignee": world["manager1"].pk}, format="json"
    )
    assert r.status_code == 400 and "独立" in r.json()["assignee"][0]
    a = api_client(world["agent1"])
    r = a.post(
        f"/api/v1/offsite/return-visits/{visit.pk}/attempts/",
        {
            "outcome": "reached",
            "answers": {"q": "是"},
            "problem_subject": "资金划转慢",
            "problem_kind": "inquiry",
        },
        format="json",
    )
    assert r.status_code == 200 and r.json()["state"] == "done"
    assert Inquiry.objects.filter(return_visit=visit, subject="资金划转慢").exists()
    rules = api_client(world["compliance1"]).get("/api/v1/offsite/return-visit-rules/").json()
    assert len(rules) == 5
    rule_id = rules[1]["id"]
    r = api_client(world["compliance1"]).patch(
        f"/api/v1/offsite/return-visit-rules/{rule_id}/", {"sample_pct": "12.5"}, format="json"
    )
    assert r.status_code == 200 and r.json()["sample_pct"] == "12.50"
    assert (
        api_client(world["b2director"])
        .patch(f"/api/v1/offsite/return-visit-rules/{rule_id}/", {"due_days": 3}, format="json")
        .status_code
        == 404
    )


def test_campaign_api(world):
    a = api_client(world["agent1"])
    r = a.post(
        "/api/v1/offsite/campaigns/", {"name": "测评提醒", "agents": [world["agent1"].pk]}, format="json"
    )
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    assert r.json()["progress"]["total"] == 2  # client_m1 and client_m2
    targets = a.get(f"/api/v1/offsite/campaigns/{cid}/targets/").json()["results"]
    r = a.post(
        f"/api/v1/offsite/campaign-targets/{targets[0]['id']}/outcome/",
        {"outcome": "done", "note": "已提醒"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["outcome"] == "done"
    assert a.get(f"/api/v1/offsite/campaigns/{cid}/").json()["progress"]["finished"] == 1
    assert api_client(world["b2director"]).get(f"/api/v1/offsite/campaigns/{cid}/").status_code == 404
    bad = a.post("/api/v1/offsite/campaigns/", {"name": "x", "agents": [world["manager1"].pk]}, format="json")
    assert bad.status_code == 400


@pytest.fixture
def objs(world):
    agent = world["agent1"]
    i = inq.inquiry_create(actor=agent, data=inq.InquiryInput(subject="咨询", client_id=world.client_m1.pk))
    b2 = inq.inquiry_create(
        actor=world["b2director"], data=inq.InquiryInput(subject="杭州", client_id=world.client_b2.pk)
    )
    v = ReturnVisit.objects.create(branch=world.b1, rule=visits.rules_for(world.b1.pk)[0], client=world.client_m2,
                                   assignee=agent, due_on=timezone.localdate())  # fmt: skip
    c = campaigns.campaign_create(
        actor=agent, name="外呼", purpose="", criteria=campaigns.CampaignCriteria(), agents=[agent]
    )
    return {"i": i, "b2": b2, "v": v, "c": c}


def _routes(o):
    return {
        "inquiries": ("get", "/api/v1/offsite/inquiries/"),
        "inquiry": ("get", f"/api/v1/offsite/inquiries/{o['i'].pk}/"),
        "inquiry_b2": ("get", f"/api/v1/offsite/inquiries/{o['b2'].pk}/"),
        "incoming": ("post", "/api/v1/calls/incoming", {"phone": "13812345678"}),
        "calls": ("get", "/api/v1/calls/"),
        "visits": ("get", "/api/v1/offsite/return-visits/"),
        "visit": ("get", f"/api/v1/offsite/return-visits/{o['v'].pk}/"),
        "rules": ("get", "/api/v1/offsite/return-visit-rules/"),
        "campaigns": ("get", "/api/v1/offsite/campaigns/"),
        "campaign": ("get", f"/api/v1/offsite/campaigns/{o['c'].pk}/"),
    }


# Columns: admin, director, manager1, manager2, consultant1, researcher1, broker1, agent1, compliance1,
# b2manager1, b2director.
API_MATRIX = {
    "inquiries":  [403, 200, 200, 200, 403, 403, 403, 200, 200, 200, 200],
    "inquiry":    [403, 200, 404, 404, 403, 403, 403, 200, 404, 404, 404],
    "inquiry_b2": [403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 200],
    "incoming":   [403, 403, 403, 403, 403, 403, 403, 201, 403, 403, 403],
    "calls":      [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "visits":     [403, 200, 403, 403, 403, 403, 403, 200, 200, 403, 200],
    "visit":      [403, 200, 403, 403, 403, 403, 403, 200, 200, 403, 404],
    "rules":      [200, 200, 403, 403, 403, 403, 403, 200, 200, 403, 200],
    "campaigns":  [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "campaign":   [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 404],
}  # fmt: skip
API_CASES = [(user, key, row[i]) for key, row in API_MATRIX.items() for i, user in enumerate(USERS)]


@pytest.mark.parametrize(("user", "key", "expected"), API_CASES)
def test_api_permission_matrix(objs, world, user, key, expected):
    method, url, *data = _routes(objs)[key]
    api = api_client(world[user])
    r = api.post(url, data[0], format="json") if method == "post" else api.get(url)
    assert r.status_code == expected, (user, key, r.status_code)


@pytest.mark.parametrize("key", list(API_MATRIX))
def test_api_anonymous_is_401(objs, key):
    method, url, *data = _routes(objs)[key]
    api = api_client()
    r = api.post(url, data[0], format="json") if method == "post" else api.get(url)
    assert r.status_code == 401


def test_api_list_query_counts(world, django_assert_max_num_queries):
    agent = world["agent1"]
    for i in range(10):
        inq.inquiry_create(
            actor=agent, data=inq.InquiryInput(subject=f"咨询{i}", caller_name="甲", assignee_id=agent.pk)
        )
    api = api_client(agent)
    for url in (
        "/api/v1/offsite/inquiries/",
        "/api/v1/offsite/return-visits/",
        "/api/v1/calls/",
        "/api/v1/offsite/campaigns/",
    ):
        api.get(url)
        with django_assert_max_num_queries(10):
            assert api.get(url).status_code == 200


def test_schema_lists_the_offsite_routes(client):
    body = client.get("/api/schema/").content.decode()
    for route in ("/api/v1/calls/incoming", "/api/v1/offsite/inquiries/", "/api/v1/offsite/return-visits/",
                  "/api/v1/offsite/campaigns/", "/api/v1/offsite/return-visit-rules/"):  # fmt: skip
        assert route in body


def test_rules_api_is_a_plain_list_and_questions_must_be_texts(world):
    api = api_client(world["compliance1"])
    rules = api.get("/api/v1/offsite/return-visit-rules/").json()
    assert isinstance(rules, list) and rules
    url = f"/api/v1/offsite/return-visit-rules/{rules[0]['id']}/"
    for bad in ({"q": 1}, [{"q": 1}], 5):
        assert api.patch(url, {"questions": bad}, format="json").status_code == 400, bad
    r = api.patch(url, {"questions": ["是否了解产品风险？"]}, format="json")
    assert r.status_code == 200 and r.json()["questions"] == ["是否了解产品风险？"]
