"""Premium pages: the role × URL permission matrix (every page and form action), anonymous access, query
counts of the lists and the dashboard, and the page flows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from branchcare.premium import services as svc
from branchcare.premium.models import PremiumRequest

USERS = [
    "admin", "director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip


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


def _routes(o):
    return {
        "desk": ("get", reverse("premium:desk"), {}),
        "request_new": ("get", reverse("premium:request_new"), {}),
        "request_detail": ("get", reverse("premium:request_detail", args=[o["r1"]]), {}),
        "request_detail_b2": ("get", reverse("premium:request_detail", args=[o["rb2"]]), {}),
        "request_transition": ("post", reverse("premium:request_transition", args=[o["r1"]]), {"name": "resolve", "note": "x"}),
        "request_message": ("post", reverse("premium:request_message", args=[o["r1"]]), {"text": "x", "to_client": "0"}),
        "request_ask": ("post", reverse("premium:request_ask", args=[o["r1"]]), {"question": "q"}),
        "questions": ("get", reverse("premium:questions"), {}),
        "question_answer": ("post", reverse("premium:question_answer", args=[o["open_q"]]), {"answer": "a"}),
        "question_relay": ("post", reverse("premium:question_relay", args=[o["answered"]]), {}),
        "enrolments": ("get", reverse("premium:enrolments"), {}),
        "enrol": ("get", reverse("premium:enrol"), {}),
        "enrolment_detail": ("get", reverse("premium:enrolment_detail", args=[o["e1"]]), {}),
        "enrolment_detail_b2": ("get", reverse("premium:enrolment_detail", args=[o["e2"]]), {}),
        "rate_add": ("post", reverse("premium:rate_add"), {"tier": "gold", "commission_rate": "0.7", "effective_from": "2030-01-01"}),
        "desk_settings": ("post", reverse("premium:desk_settings"), {"first_response_minutes": 20, "resolution_hours": 12, "director_after_minutes": 30}),
        "briefing": ("get", reverse("premium:briefing"), {}),
        "briefing_generate": ("post", reverse("premium:briefing_generate"), {}),
        "briefing_explain": ("post", reverse("premium:briefing_explain", args=[o["entry"]]), {}),
        "dashboard": ("get", reverse("premium:dashboard"), {}),
    }  # fmt: skip


DESK = {"director": 200, "broker1": 200, "b2director": 200}
B1_DESK = {"director": 200, "broker1": 200, "b2director": 404}
B1_POST = {"director": 302, "broker1": 302, "b2director": 404}
EXPECTED = {
    "desk": DESK,
    "request_new": DESK,
    "request_detail": B1_DESK,
    "request_detail_b2": {"director": 404, "broker1": 404, "b2director": 200},
    "request_transition": B1_POST,
    "request_message": B1_POST,
    "request_ask": B1_POST,
    "questions": {**DESK, "researcher1": 200},
    "question_answer": {"researcher1": 302},
    "question_relay": B1_POST,
    "enrolments": DESK,
    "enrol": {"director": 200, "b2director": 200},
    "enrolment_detail": B1_DESK,
    "enrolment_detail_b2": {"director": 404, "broker1": 404, "b2director": 200},
    "rate_add": {"director": 302, "b2director": 302},
    "desk_settings": {"director": 302, "b2director": 302},
    "briefing": {"broker1": 200},
    "briefing_generate": {"broker1": 302},
    "briefing_explain": {"broker1": 302},
    "dashboard": {"director": 200, "b2director": 200},
}
CASES = [(user, key, EXPECTED[key].get(user, 403)) for key in EXPECTED for user in USERS]


@pytest.mark.parametrize(("user", "key", "expected"), CASES)
def test_permission_matrix(objs, login, user, key, expected):
    method, url, data = _routes(objs)[key]
    client = login(user)
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == expected, (user, key, response.status_code)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_anonymous_is_sent_to_login(objs, client, key):
    method, url, data = _routes(objs)[key]
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_url_is_in_the_matrix():
    from branchcare.premium import urls

    assert {p.name for p in urls.urlpatterns} == set(EXPECTED) - {"request_detail_b2", "enrolment_detail_b2"} | {
        "request_detail", "enrolment_detail"
    }  # fmt: skip


def test_list_and_dashboard_query_counts(objs, world, premium, login, django_assert_max_num_queries):
    for i in range(15):
        svc.request_create(
            actor=world["broker1"], client=world.client_m1, channel="phone", subject=f"s{i}", body="b"
        )
    director, broker, researcher = login("director"), None, None
    pages = [
        ("director", reverse("premium:desk"), 14),
        ("director", reverse("premium:enrolments"), 16),
        ("director", reverse("premium:dashboard"), 14),
        ("broker1", reverse("premium:desk") + "?state=&f=1", 14),
        ("broker1", reverse("premium:briefing"), 14),
        ("researcher1", reverse("premium:questions"), 12),
        ("broker1", reverse("premium:request_detail", args=[objs["r1"]]), 20),
    ]
    del director, broker, researcher
    for user, url, limit in pages:
        client = login(user)
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_desk_shows_queue_and_escalation_badge(objs, world, login):
    PremiumRequest.objects.filter(pk=objs["r1"]).update(escalation_level=1)
    body = login("broker1").get(reverse("premium:desk")).content.decode()
    assert "询问招商银行" in body and "备岗经纪人" in body and "杭州客户" not in body


def test_client_panel_and_timeline(objs, world, login):
    page = login("director").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert 'id="premium-panel"' in page and "金卡" in page and "0.6000‰" in page
    timeline = (
        login("director")
        .get(reverse("clients:timeline", args=[world.client_m1.pk]) + "?window=all")
        .content.decode()
    )
    assert "签约高端服务" in timeline and "高端客户请求" in timeline
    # the client's manager sees the events (no internal notes, no links into the desk)
    timeline = (
        login("manager1")
        .get(reverse("clients:timeline", args=[world.client_m1.pk]) + "?window=all")
        .content.decode()
    )
    assert "高端客户请求" in timeline and "/premium/" not in timeline and "分红预期" not in timeline
    # a client without enrolment shows the panel only to the director (with the enrol button)
    page = login("director").get(reverse("clients:detail", args=[world.client_m2.pk])).content.decode()
    assert "办理签约" in page
    page = login("manager2").get(reverse("clients:detail", args=[world.client_m2.pk])).content.decode()
    assert 'id="premium-panel"' not in page


def test_enrol_page_flow(world, premium, login):
    client = login("director")
    response = client.post(
        reverse("premium:enrol"),
        {
            "client_no": world.client_m2.client_no, "tier": "diamond", "broker": world["broker1"].pk,
            "agreement_no": "GJ-77", "signed_on": "2026-11-20", "effective_on": "2026-11-20",
        },
    )  # fmt: skip
    assert response.status_code == 302
    world.client_m2.refresh_from_db()
    assert world.client_m2.is_premium
    # an unknown client number is an error next to the field
    response = client.post(reverse("premium:enrol"), {"client_no": "999", "tier": "gold", "broker": world["broker1"].pk,
                                                      "agreement_no": "x", "signed_on": "2026-11-20", "effective_on": "2026-11-20"})  # fmt: skip
    assert response.status_code == 200 and "没有客户号为 999" in response.content.decode()


def test_exit_page_flow(world, premium, login):
    url = reverse("premium:enrolment_detail", args=[premium["e1"].pk])
    response = login("director").post(url, {"action": "exit", "x-ended_on": "2026-11-20", "x-reason": "转户"})
    assert response.status_code == 302
    world.client_m1.refresh_from_db()
    assert not world.client_m1.is_premium
    assert (
        login("broker1")
        .post(url, {"action": "exit", "x-ended_on": "2026-11-20", "x-reason": "x"})
        .status_code
        == 403
    )
