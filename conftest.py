"""Fixtures shared by the whole suite: a small two-branch world with one account per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from branchcare.testing.factories import (
    BranchFactory,
    ClientFactory,
    CompanyFactory,
    TeamFactory,
    UserFactory,
)

PASSWORD = "Passw0rd!x"


@dataclass
class World:
    company: object
    b1: object
    b2: object
    users: dict
    client_m1: object  # owned by manager1 (B001)
    client_m2: object  # owned by manager2 (B001, other team)
    client_b2: object  # owned by b2manager1 (B002)

    def __getitem__(self, username: str):
        return self.users[username]


ACCOUNTS = {
    # username: (branch key, team key, roles)
    "admin": ("b1", None, ["admin"]),
    "director": ("b1", None, ["director"]),
    "manager1": ("b1", "t1", ["manager"]),
    "manager2": ("b1", "t2", ["manager"]),
    "consultant1": ("b1", None, ["consultant"]),
    "researcher1": ("b1", None, ["researcher"]),
    "broker1": ("b1", "t1", ["broker"]),
    "agent1": ("b1", None, ["agent"]),
    "compliance1": ("b1", None, ["compliance"]),
    "b2manager1": ("b2", "b2t1", ["manager"]),
    "b2director": ("b2", None, ["director"]),
}


def ensure_standard_roles() -> None:
    """The roles come from a data migration; transactional tests flush them, so recreate if missing."""
    from branchcare.org.capabilities import STANDARD_ROLES
    from branchcare.org.models import Role

    for code, (name, scope, caps) in STANDARD_ROLES.items():
        Role.objects.get_or_create(
            code=code, defaults={"name": name, "scope": str(scope), "capabilities": list(caps)}
        )


@pytest.fixture
def world(db) -> World:
    ensure_standard_roles()
    company = CompanyFactory()
    b1 = BranchFactory(company=company, code="B001", name="上海浦东营业部")
    b2 = BranchFactory(company=company, code="B002", name="杭州西湖营业部")
    teams = {
        "t1": TeamFactory(branch=b1, name="财富一组"),
        "t2": TeamFactory(branch=b1, name="财富二组"),
        "b2t1": TeamFactory(branch=b2, name="西湖一组"),
    }
    branches = {"b1": b1, "b2": b2}
    users = {
        username: UserFactory(
            username=username,
            branch=branches[bkey],
            team=teams.get(tkey) if tkey else None,
            roles=roles,
            password=PASSWORD,
        )
        for username, (bkey, tkey, roles) in ACCOUNTS.items()
    }
    return World(
        company=company,
        b1=b1,
        b2=b2,
        users=users,
        client_m1=ClientFactory(
            branch=b1,
            manager=users["manager1"],
            name="张三",
            phone="13812345678",
            id_number="310101199001011234",
        ),
        client_m2=ClientFactory(branch=b1, manager=users["manager2"], name="李四"),
        client_b2=ClientFactory(branch=b2, manager=users["b2manager1"], name="王五"),
    )


@pytest.fixture
def login(client):
    """``login("manager1")`` logs the test client in as that account."""

    def _login(username: str):
        from branchcare.org.models import User

        client.force_login(User.objects.get(username=username))
        return client

    return _login
