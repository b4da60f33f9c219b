"""Role × URL permission matrix for every page and API route of prospect development (all 11 world users
and anonymous; another owner's or branch's object is a 404)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from branchcare.core.models import ImportJob

pytestmark = pytest.mark.django_db

B1 = ("director", "manager1", "manager2", "broker1")
B2 = ("b2manager1", "b2director")
OTHERS = ("admin", "consultant1", "researcher1", "agent1", "compliance1")
ROLES = (*B1, *B2, *OTHERS)
DIRECTORS = ("director", "b2director")


def everyone(code_b1: int, code_b2: int | None = None) -> dict[str, int]:
    """Prospect users of both branches get ``code_b1`` / ``code_b2``; the others 403."""
    out = dict.fromkeys(OTHERS, 403)
    out.update(dict.fromkeys(B1, code_b1))
    out.update(dict.fromkeys(B2, code_b1 if code_b2 is None else code_b2))
    return out


def directors_only(director: int, b2director: int) -> dict[str, int]:
    out = dict.fromkeys(ROLES, 403)
    out.update({"director": director, "b2director": b2director})
    return out


def matrix(**codes: int) -> dict[str, int]:
    """Explicit codes for some roles; every other prospect user 404, the others 403."""
    out = everyone(404)
    out.update(codes)
    return out


@pytest.fixture
def objs(world, pw):
    job = ImportJob.objects.create(
        kind="prospects", branch=world.b1, created_by=world["broker1"], file_name="x.csv", file_path="/nonexistent",
        dry_run=True, status=ImportJob.Status.PREVIEWED,
    )  # fmt: skip
    return {**pw, "job": job}


def page_urls(o) -> dict[str, tuple[str, str]]:
    b, pool, b2 = o["broker"].pk, o["pool"].pk, o["b2"].pk
    return {
        "list": ("get", reverse("prospects:list")),
        "list_pool": ("get", reverse("prospects:list") + "?view=pool"),
        "new": ("get", reverse("prospects:new")),
        "import": ("get", reverse("prospects:import")),
        "import_template": ("get", reverse("prospects:import_template")),
        "import_job": ("get", reverse("prospects:import_job", args=[o["job"].pk])),
        "settings": ("get", reverse("prospects:settings")),
        "partners": ("get", reverse("prospects:partners")),
        "partner_new": ("get", reverse("prospects:partner_new")),
        "partner_edit": ("get", reverse("prospects:partner_edit", args=[o["partner"].pk])),
        "reports": ("get", reverse("prospects:reports") + "?period=all"),
        "detail": ("get", reverse("prospects:detail", args=[b])),
        "detail_pool": ("get", reverse("prospects:detail", args=[pool])),
        "detail_b2": ("get", reverse("prospects:detail", args=[b2])),
        "edit": ("get", reverse("prospects:edit", args=[b])),
        "followup_b2": ("post", reverse("prospects:followup", args=[b2])),
        "transition_b2": ("post", reverse("prospects:transition", args=[b2])),
        "claim_b2": ("post", reverse("prospects:claim", args=[b2])),
        "assign_b2": ("post", reverse("prospects:assign", args=[b2])),
        "link_b2": ("post", reverse("prospects:link", args=[b2])),
    }


PAGE_MATRIX = {
    "list": everyone(200),
    "list_pool": everyone(200),
    "new": everyone(200),
    "import": everyone(200),
    "import_template": everyone(200),
    "import_job": matrix(broker1=200, director=200),
    "settings": directors_only(200, 200),
    "partners": everyone(200),
    "partner_new": directors_only(200, 200),
    "partner_edit": directors_only(200, 404),
    "reports": everyone(200),
    "detail": matrix(broker1=200, director=200),
    "detail_pool": everyone(200, 404),
    "detail_b2": everyone(404, 200),
    "edit": matrix(broker1=200, director=200),
    # B002: the owner and director act (an empty form answers with a message and a redirect)
    "followup_b2": everyone(404, 302),
    "transition_b2": everyone(404, 302),
    "claim_b2": matrix(b2manager1=302, b2director=403),  # owned already: a message; a director never claims
    "assign_b2": {**directors_only(404, 302)},
    "link_b2": everyone(404, 302),
}
PAGE_CASES = [(role, key, code) for key, row in PAGE_MATRIX.items() for role, code in row.items()]


def test_page_matrix_covers_every_role_and_url(objs):
    assert set(PAGE_MATRIX) == set(page_urls(objs))
    assert all(set(row) == set(ROLES) for row in PAGE_MATRIX.values())


@pytest.mark.parametrize(("role", "key", "expected"), PAGE_CASES)
def test_page_permission_matrix(objs, login, role, key, expected):
    method, url = page_urls(objs)[key]
    c = login(role)
    response = getattr(c, method)(url)
    assert response.status_code == expected, (role, key, response.status_code)


@pytest.mark.parametrize("key", list(PAGE_MATRIX))
def test_anonymous_is_sent_to_login(objs, client, key):
    method, url = page_urls(objs)[key]
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/login" in response["Location"]


# --- API ---------------------------------------------------------------------------------------------------


def api_urls(o) -> dict[str, tuple[str, str, dict | None]]:
    b, b2, partner = o["broker"].pk, o["b2"].pk, o["partner"].pk
    base = "/api/v1/prospects"
    return {
        "partners": ("get", f"{base}/partners/", None),
        "partner_create": ("post", f"{base}/partners/", {}),
        "partner": ("get", f"{base}/partners/{partner}/", None),
        "partner_patch": ("patch", f"{base}/partners/{partner}/", {"notes": "更新"}),
        "prospects": ("get", f"{base}/prospects/", None),
        "prospect_create": ("post", f"{base}/prospects/", {}),
        "prospect": ("get", f"{base}/prospects/{b}/", None),
        "prospect_patch": ("patch", f"{base}/prospects/{b}/", {"notes": "更新"}),
        "transition_b2": ("post", f"{base}/prospects/{b2}/transitions/contact/", {}),
        "follow_ups_b2": ("get", f"{base}/prospects/{b2}/follow-ups/", None),
        "follow_up_b2": ("post", f"{base}/prospects/{b2}/follow-ups/", {"notes": "电话联系"}),
        "claim_b2": ("post", f"{base}/prospects/{b2}/claim/", None),
        "assign_b2": ("post", f"{base}/prospects/{b2}/assign/", {"owner": None}),
        "link_b2": ("post", f"{base}/prospects/{b2}/link/", {"client_no": "NOPE"}),
        "reports": ("get", f"{base}/reports/?period=all", None),
    }


API_MATRIX = {
    "partners": everyone(200),
    "partner_create": {**everyone(403), "director": 400, "b2director": 400},  # 400: empty body
    "partner": everyone(200, 404),
    "partner_patch": {**everyone(403), "director": 200, "b2director": 404},
    "prospects": everyone(200),
    "prospect_create": everyone(400),  # 400: empty body (name and phone required)
    "prospect": matrix(broker1=200, director=200),
    "prospect_patch": matrix(broker1=200, director=200),
    "transition_b2": everyone(404, 200),
    "follow_ups_b2": everyone(404, 200),
    "follow_up_b2": everyone(404, 201),
    "claim_b2": matrix(b2manager1=409, b2director=403),
    "assign_b2": directors_only(404, 200),
    "link_b2": everyone(404, 400),
}
API_CASES = [(role, key, code) for key, row in API_MATRIX.items() for role, code in row.items()]


def test_api_matrix_covers_every_route(objs):
    assert set(API_MATRIX) | {"reports"} == set(api_urls(objs))
    assert all(set(row) == set(ROLES) for row in API_MATRIX.values())


@pytest.mark.parametrize(
    ("role", "key", "expected"), [*API_CASES, *[(r, "reports", c) for r, c in everyone(200).items()]]
)
def test_api_permission_matrix(objs, world, role, key, expected):
    method, url, body = api_urls(objs)[key]
    c = APIClient()
    c.force_authenticate(world[role])
    response = getattr(c, method)(url, body, format="json") if body is not None else getattr(c, method)(url)
    assert response.status_code == expected, (role, key, response.status_code, response.content[:300])


@pytest.mark.parametrize("key", ["partners", "prospects", "prospect", "reports", "claim_b2"])
def test_api_anonymous_is_refused(objs, key):
    method, url, body = api_urls(objs)[key]
    response = getattr(APIClient(), method)(url)
    assert response.status_code in (401, 403)
