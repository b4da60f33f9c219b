"""Role × URL permission matrix for the organisation pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

ROLES = [
    "admin",
    "director",
    "manager1",
    "consultant1",
    "researcher1",
    "broker1",
    "agent1",
    "compliance1",
    "b2manager1",
    "b2director",
]

ALLOWED = {
    "home": set(ROLES),
    "staff_list": {"admin", "director", "researcher1", "compliance1", "b2director"},
    "staff_create": {"admin", "director", "b2director"},
    "staff_edit_manager1": {"admin", "director"},  # b2director: 404 (other branch)
    "roles": {"admin", "director", "researcher1", "compliance1", "b2director"},
    "role_edit": {"admin"},
    "rooms": {"admin", "director", "b2director"},
    "audit": {"admin", "director", "compliance1", "b2director"},
}
NOT_FOUND = {("staff_edit_manager1", "b2director")}


def _url(key, world):
    from branchcare.org.models import Role

    return {
        "home": reverse("home"),
        "staff_list": reverse("org:staff_list"),
        "staff_create": reverse("org:staff_create"),
        "staff_edit_manager1": reverse("org:staff_edit", args=[world["manager1"].pk]),
        "roles": reverse("org:roles"),
        "role_edit": reverse("org:role_edit", args=[Role.objects.get(code="manager").pk]),
        "rooms": reverse("org:rooms"),
        "audit": reverse("org:audit_list"),
    }[key]


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", list(ALLOWED))
def test_org_pages_permission_matrix(world, client, key, username):
    client.force_login(world[username])
    response = client.get(_url(key, world))
    expected = 404 if (key, username) in NOT_FOUND else 200 if username in ALLOWED[key] else 403
    assert response.status_code == expected, f"{username} {key}"


@pytest.mark.parametrize("key", list(ALLOWED))
def test_org_pages_need_login(world, client, key):
    response = client.get(_url(key, world))
    assert response.status_code == 302
