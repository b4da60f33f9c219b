"""Org API wiring: /me, visible branches and the scoped staff directory."""

from __future__ import annotations

import pytest

from branchcare.api.testing import api_client
from branchcare.org.capabilities import Cap

ME = "/api/v1/me/"
BRANCHES = "/api/v1/branches/"
STAFF = "/api/v1/staff/"


def usernames(response) -> set[str]:
    return {row["username"] for row in response.json()["results"]}


# --- me -----------------------------------------------------------------------------------------------


def test_me_describes_the_user_roles_and_capabilities(world):
    response = api_client(world["manager1"]).get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "manager1"
    assert body["branch"] == {"id": world.b1.pk, "code": "B001", "name": "上海浦东营业部"}
    assert body["team"]["name"] == "财富一组"
    assert body["roles"] == [{"code": "manager", "name": "客户经理", "scope": "own"}]
    assert set(body["capabilities"]) == {
        Cap.CLIENTS_VIEW, Cap.CLIENTS_EDIT, Cap.CLIENTS_EXPORT, Cap.PERSONAL_DATA_VIEW, Cap.ONSITE_SERVE,
    }  # fmt: skip
    assert body["can_view_personal_data"] is True


def test_me_without_personal_data_right(world):
    body = api_client(world["agent1"]).get(ME).json()

    assert body["can_view_personal_data"] is False
    assert body["team"] is None
    assert body["roles"][0]["scope"] == "branch"


# --- branches -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "codes"),
    [
        ("manager1", ["B001"]),
        ("director", ["B001"]),
        ("researcher1", ["B001"]),  # no client rights: still sees their own branch
        ("b2director", ["B002"]),
        ("admin", ["B001", "B002"]),  # company scope
    ],
)
def test_branches_visible_to_the_caller(world, username, codes):
    response = api_client(world[username]).get(BRANCHES)

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == codes


# --- staff --------------------------------------------------------------------------------------------


def test_b2director_sees_only_b002_staff(world):
    response = api_client(world["b2director"]).get(STAFF)

    assert response.status_code == 200
    assert usernames(response) == {"b2manager1", "b2director"}


def test_b2director_cannot_open_b001_staff(world):
    response = api_client(world["b2director"]).get(f"{STAFF}{world['director'].pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}


def test_researcher_with_staff_view_sees_the_branch(world):
    response = api_client(world["researcher1"]).get(STAFF)

    assert response.status_code == 200
    assert "b2manager1" not in usernames(response)
    assert {"director", "manager1", "agent1"} <= usernames(response)


def test_admin_sees_the_whole_company(world):
    assert {"director", "b2director"} <= usernames(api_client(world["admin"]).get(STAFF, {"page_size": 100}))


@pytest.mark.parametrize("username", ["agent1", "manager1", "consultant1"])
def test_staff_directory_needs_the_capability(world, username):
    client = api_client(world[username])

    assert client.get(STAFF).status_code == 403
    assert client.get(f"{STAFF}{world['director'].pk}/").status_code == 403


def test_staff_search(world):
    response = api_client(world["director"]).get(STAFF, {"q": "manager"})

    assert usernames(response) == {"manager1", "manager2"}


def test_staff_detail_shape(world):
    body = api_client(world["director"]).get(f"{STAFF}{world['manager1'].pk}/").json()

    assert body["username"] == "manager1"
    assert body["branch"]["code"] == "B001"
    assert body["team"]["name"] == "财富一组"
    assert body["roles"] == [{"code": "manager", "name": "客户经理", "scope": "own"}]


def test_staff_phone_is_masked_without_personal_data_right(world):
    world["manager1"].phone = "13912345678"
    world["manager1"].save()
    url = f"{STAFF}{world['manager1'].pk}/"

    assert api_client(world["researcher1"]).get(url).json()["phone"] == "139****5678"
    assert api_client(world["director"]).get(url).json()["phone"] == "13912345678"


def test_staff_list_query_count_is_constant(world, django_assert_max_num_queries):
    client = api_client(world["admin"])

    # token+user, roles, own branch (company scope), count, page, prefetch of roles
    with django_assert_max_num_queries(6):
        response = client.get(STAFF)
    assert response.json()["count"] == 11


def test_staff_directory_is_read_only(world):
    client = api_client(world["director"])

    assert client.post(STAFF, {"username": "x"}, format="json").status_code == 405
    assert client.patch(f"{STAFF}{world['manager1'].pk}/", {"name": "x"}, format="json").status_code == 405
    assert client.delete(f"{STAFF}{world['manager1'].pk}/").status_code == 405
