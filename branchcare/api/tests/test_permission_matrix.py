"""Every API URL × every role → the expected status (pretix-style permission matrix).

403 = the role lacks the capability; 404 = the object exists but lies outside the caller's scope
(another manager's or another branch's client, another branch's staff), exactly like a missing one;
401 = anonymous. Writes that succeed are 200/201. The schema and its docs page are public.
"""

from __future__ import annotations

import pytest

from branchcare.api.testing import api_client

ROLES = [
    "anonymous", "admin", "director", "manager1", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip


# endpoint name -> (method, url builder, payload)
ENDPOINTS = {
    "me": ("get", lambda w: "/api/v1/me/", None),
    "service-standards": ("get", lambda w: "/api/v1/service-standards/", None),
    "trading-calendar": ("get", lambda w: "/api/v1/trading-calendar/?start=2026-09-28&end=2026-10-09", None),
    "branches": ("get", lambda w: "/api/v1/branches/", None),
    "client-list": ("get", lambda w: "/api/v1/clients/", None),
    "client-own": ("get", lambda w: f"/api/v1/clients/{w.client_m1.pk}/", None),
    "client-other-manager": ("get", lambda w: f"/api/v1/clients/{w.client_m2.pk}/", None),
    "client-other-branch": ("get", lambda w: f"/api/v1/clients/{w.client_b2.pk}/", None),
    "holdings-own": ("get", lambda w: f"/api/v1/clients/{w.client_m1.pk}/holdings/", None),
    "holdings-other-manager": ("get", lambda w: f"/api/v1/clients/{w.client_m2.pk}/holdings/", None),
    "holdings-other-branch": ("get", lambda w: f"/api/v1/clients/{w.client_b2.pk}/holdings/", None),
    "client-create": ("post", lambda w: "/api/v1/clients/", {"client_no": "99000001", "name": "矩阵"}),
    "client-update-own": ("patch", lambda w: f"/api/v1/clients/{w.client_m1.pk}/", {"notes": "矩阵"}),
    "client-update-other-manager": (
        "patch",
        lambda w: f"/api/v1/clients/{w.client_m2.pk}/",
        {"notes": "矩阵"},
    ),
    "client-update-other-branch": (
        "patch",
        lambda w: f"/api/v1/clients/{w.client_b2.pk}/",
        {"notes": "矩阵"},
    ),
    "client-put-own": (
        "put",
        lambda w: f"/api/v1/clients/{w.client_m1.pk}/",
        {"client_no": "99000002", "name": "矩阵"},
    ),
    "staff-list": ("get", lambda w: "/api/v1/staff/", None),
    "staff-b001": ("get", lambda w: f"/api/v1/staff/{w['director'].pk}/", None),
    "staff-b002": ("get", lambda w: f"/api/v1/staff/{w['b2director'].pk}/", None),
    "token": ("post", lambda w: "/api/v1/auth/token/", {"username": "manager1", "password": "wrong"}),
    "schema": ("get", lambda w: "/api/schema/?format=json", None),
    "docs": ("get", lambda w: "/api/docs/", None),
}

# Columns follow ROLES. "client-own" is manager1's client in B001; "other-manager" is manager2's
# client in B001; "other-branch" is b2manager1's client in B002 (b2 roles: "own" is still B001's).
MATRIX = {
    #                              anon admin dir  m1   cons res  brok agent comp b2m  b2d
    "me":                          [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "service-standards":           [401, 200, 200, 403, 403, 403, 403, 403, 403, 403, 200],
    "trading-calendar":            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "branches":                    [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "client-list":                 [401, 200, 200, 200, 200, 403, 200, 200, 200, 200, 200],
    "client-own":                  [401, 200, 200, 200, 200, 403, 404, 200, 200, 404, 404],
    "client-other-manager":        [401, 200, 200, 404, 200, 403, 404, 200, 200, 404, 404],
    "client-other-branch":         [401, 200, 404, 404, 404, 403, 404, 404, 404, 200, 200],
    "holdings-own":                [401, 200, 200, 200, 200, 403, 404, 200, 200, 404, 404],
    "holdings-other-manager":      [401, 200, 200, 404, 200, 403, 404, 200, 200, 404, 404],
    "holdings-other-branch":       [401, 200, 404, 404, 404, 403, 404, 404, 404, 200, 200],
    "client-create":               [401, 403, 201, 403, 403, 403, 403, 403, 403, 403, 201],
    "client-update-own":           [401, 403, 200, 200, 403, 403, 404, 403, 403, 404, 404],
    "client-update-other-manager": [401, 403, 200, 404, 403, 403, 404, 403, 403, 404, 404],
    "client-update-other-branch":  [401, 403, 404, 404, 403, 403, 404, 403, 403, 200, 200],
    "client-put-own":              [401, 403, 200, 200, 403, 403, 404, 403, 403, 404, 404],
    "staff-list":                  [401, 200, 200, 403, 403, 200, 403, 403, 200, 403, 200],
    "staff-b001":                  [401, 200, 200, 403, 403, 200, 403, 403, 200, 403, 404],
    "staff-b002":                  [401, 200, 404, 403, 403, 404, 403, 403, 404, 403, 200],
    "token":                       [400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400],
    "schema":                      [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "docs":                        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
}  # fmt: skip

CASES = [
    pytest.param(role, endpoint, MATRIX[endpoint][i], id=f"{endpoint}-{role}")
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
]


def test_matrix_covers_every_endpoint_and_role():
    assert set(MATRIX) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


def test_matrix_covers_every_api_route():
    """A new API route must be added to the matrix."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    # Later subsystems' routes have their own permission matrices in their apps' tests.
    other_apps = (
        "api/v1/onsite/",
        "api/v1/visit",
        "api/v1/patrol",
        "api/v1/rooms",
        "api/v1/follow-ups",
        "api/v1/consultation",
        "api/v1/meetings",
        "api/v1/research",
        "api/v1/offsite",
        "api/v1/calls",
        "api/v1/premium",
        "api/v1/prospects",
        "api/v1/supervision",
    )
    api_routes = {
        r
        for r in walk(get_resolver().url_patterns)
        if r.startswith("api/") and not r.replace("^", "").startswith(other_apps)
    }
    covered = {
        "api/v1/auth/token/", "api/v1/me/", "api/v1/^clients/$", "api/v1/^clients/(?P<pk>[^/]+)/$",
        "api/v1/^clients/(?P<pk>[^/]+)/holdings/$", "api/v1/^branches/$", "api/v1/^staff/$",
        "api/v1/^service-standards/$", "api/v1/trading-calendar/",
        "api/v1/^staff/(?P<pk>[^/]+)/$", "api/schema/", "api/docs/",
    }  # fmt: skip
    assert api_routes == covered


@pytest.mark.parametrize(("role", "endpoint", "expected"), CASES)
def test_permission_matrix(world, role, endpoint, expected):
    # given
    method, url, payload = ENDPOINTS[endpoint]
    client = api_client(None if role == "anonymous" else world[role])

    # when
    response = (
        getattr(client, method)(url(world), payload, format="json") if payload else client.get(url(world))
    )

    # then
    assert response.status_code == expected, getattr(response, "data", response.content[:200])
