"""Role × URL permission matrix for every supervision page and API route (all 11 world users and
anonymous); another branch's objects answer 404."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from branchcare.api.testing import api_client

USERS = [
    "anonymous", "admin", "director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip


def u(name, *args, **params):
    url = reverse(name, args=args)
    return f"{url}?{urlencode(params)}" if params else url


# key -> (method, url builder, payload, who gets what). Default for a role not listed: 403.
# "SUP" = the two directors on their own branch; "B1" = only the B001 director (B002's gets 404).
PAGES = {
    "dashboard": ("get", lambda w: u("supervision:dashboard"), None, "SUP"),
    "dashboard-b1": ("get", lambda w: u("supervision:dashboard", branch=w.b1.pk), None, "B1"),
    "items": ("get", lambda w: u("supervision:dashboard_items", key="orders_overdue"), None, "SUP"),
    "items-b1-person": (
        "get",
        lambda w: u(
            "supervision:dashboard_items", key="visits_due", branch=w.b1.pk, employee=w["manager1"].pk
        ),
        None,
        "B1",
    ),
    "items-uncovered": ("get", lambda w: u("supervision:dashboard_items", key="uncovered"), None, "SUP"),
    "items-expired": ("get", lambda w: u("supervision:dashboard_items", key="expired"), None, "SUP"),
    "scorecards": ("get", lambda w: u("supervision:scorecards"), None, "SUP"),
    "scorecards-b1": (
        "get",
        lambda w: u("supervision:scorecards", branch=w.b1.pk, role="consultant"),
        None,
        "B1",
    ),
    "scorecards-xlsx": ("get", lambda w: u("supervision:scorecards_xlsx"), None, "SUP"),
    "scorecards-pdf": ("get", lambda w: u("supervision:scorecards_pdf", branch=w.b1.pk), None, "B1"),
    "config": ("get", lambda w: u("supervision:scorecard_config"), None, "SUP"),
    "config-post-b1": (
        "post",
        lambda w: u("supervision:scorecard_config"),
        lambda w: {"branch": w.b1.pk, "role": "manager"},
        "B1",
    ),  # fmt: skip
    "recompute-b1": ("post", lambda w: u("supervision:recompute"), lambda w: {"branch": w.b1.pk}, "B1-302"),
    "drill": (
        "get",
        lambda w: u(
            "supervision:drill", measure="visits_vs_quota", part="num", first="2026-11-01", last="2026-11-30"
        ),
        None,
        "SUP",
    ),  # fmt: skip
    "drill-b1-person": (
        "get",
        lambda w: u(
            "supervision:drill",
            measure="visits_vs_quota",
            part="num",
            branch=w.b1.pk,
            employee=w["manager1"].pk,
        ),
        None,
        "B1",
    ),  # fmt: skip
    "compliance": ("get", lambda w: u("supervision:compliance"), None, "COMP"),
    "compliance-check": (
        "get",
        lambda w: u("supervision:compliance_check", "advice_no_risk_warning"),
        None,
        "COMP",
    ),  # fmt: skip
    "history-find": (
        "get",
        lambda w: u("supervision:history_find", client_no=w.client_m1.client_no),
        None,
        "COMP-302",
    ),  # fmt: skip
    "history-own-branch": ("get", lambda w: u("supervision:history", w.client_m1.pk), None, "COMP"),
    "history-other-branch": ("get", lambda w: u("supervision:history", w.client_b2.pk), None, "COMP-404"),
    "history-xlsx": ("get", lambda w: u("supervision:history_xlsx", w.client_m2.pk), None, "COMP"),
    "history-pdf": ("get", lambda w: u("supervision:history_pdf", w.client_m1.pk), None, "COMP"),
    "history-xlsx-other-branch": (
        "get",
        lambda w: u("supervision:history_xlsx", w.client_b2.pk),
        None,
        "COMP-404",
    ),
}


def expected_page(rule: str, username: str) -> int:
    if rule == "SUP":
        return 200 if username in ("director", "b2director") else 403
    if rule == "B1":
        return {"director": 200, "b2director": 404}.get(username, 403)
    if rule == "B1-302":
        return {"director": 302, "b2director": 404}.get(username, 403)
    if rule == "COMP":
        return 200 if username == "compliance1" else 403
    if rule == "COMP-302":
        return 302 if username == "compliance1" else 403
    if rule == "COMP-404":
        return 404 if username == "compliance1" else 403
    raise AssertionError(rule)


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("key", list(PAGES))
def test_page_permission_matrix(world, client, key, username):
    method, url, payload, rule = PAGES[key]
    if username == "anonymous":
        response = getattr(client, method)(url(world), payload(world) if payload else None)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], key
        return
    client.force_login(world[username])
    response = getattr(client, method)(url(world), payload(world) if payload else None)
    assert response.status_code == expected_page(rule, username), f"{key} {username}"


def test_every_page_route_is_in_the_matrix():
    from branchcare.supervision.urls import urlpatterns

    names = {p.name for p in urlpatterns}
    covered = {
        "dashboard", "dashboard_items", "scorecards", "scorecards_xlsx", "scorecards_pdf", "scorecard_config",
        "recompute", "drill", "compliance", "compliance_check", "history_find", "history", "history_xlsx",
        "history_pdf",
    }  # fmt: skip
    assert names == covered


API = {
    "scorecards": (lambda w: "/api/v1/supervision/scorecards/", "SUP"),
    "scorecards-b1": (lambda w: f"/api/v1/supervision/scorecards/?branch={w.b1.pk}&role=consultant", "B1"),
    "dashboard": (lambda w: "/api/v1/supervision/dashboard/", "SUP"),
    "dashboard-b1": (lambda w: f"/api/v1/supervision/dashboard/?branch={w.b1.pk}", "B1"),
    "checks": (lambda w: "/api/v1/supervision/compliance/checks/", "COMP"),
    "check": (lambda w: "/api/v1/supervision/compliance/checks/advice_no_suitability/", "COMP"),
    "check-unknown": (lambda w: "/api/v1/supervision/compliance/checks/nope/", "COMP-404"),
}


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("key", list(API))
def test_api_permission_matrix(world, key, username):
    url, rule = API[key]
    client = api_client(None if username == "anonymous" else world[username])
    response = client.get(url(world))
    expected = 401 if username == "anonymous" else expected_page(rule, username)
    assert response.status_code == expected, f"{key} {username}"


def test_every_api_route_is_in_the_matrix():
    from branchcare.supervision.apis import urlpatterns

    assert {str(p.pattern) for p in urlpatterns} == {
        "supervision/scorecards/",
        "supervision/dashboard/",
        "supervision/compliance/checks/",
        "supervision/compliance/checks/<str:code>/",
    }


def test_api_routes_are_in_the_openapi_schema(world):
    response = api_client(world["director"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.content.decode()
    for route in (
        "/api/v1/supervision/scorecards/",
        "/api/v1/supervision/dashboard/",
        "/api/v1/supervision/compliance/checks/",
        "/api/v1/supervision/compliance/checks/{code}/",
    ):
        assert route in body, route  # fmt: skip
