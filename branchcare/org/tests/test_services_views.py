from __future__ import annotations

import pytest
from django.urls import reverse

from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.org import services
from branchcare.org.models import Role, User
from branchcare.org.scope import scope_q


def test_user_grants_take_widest_scope(world):
    u = world["manager1"]
    assert u.scope_for("clients.view") == "own"
    u.roles.add(Role.objects.get(code="compliance"))
    u = User.objects.get(pk=u.pk)
    assert u.scope_for("clients.view") == "branch"
    assert u.has_cap("audit.view")


def test_inactive_user_has_no_rights(world):
    u = world["director"]
    u.is_active = False
    assert u.scope_for("clients.view") is None
    assert scope_q(u, "clients.view") is None


def test_staff_create_by_director_and_audit(world):
    u = services.staff_create(
        actor=world["director"],
        username="manager3",
        password="Kehu-Jingli-2026",
        data={"name": "王经理", "branch": world.b1},
        roles=[Role.objects.get(code="manager")],
    )
    assert u.check_password("Kehu-Jingli-2026")
    assert AuditLog.objects.get(action="staff.create").changes["roles"] == [[], ["manager"]]


def test_director_cannot_create_staff_in_other_branch_or_grant_company_scope(world):
    before = User.objects.count()
    with pytest.raises(DomainError):
        services.staff_create(
            actor=world["director"],
            username="x1",
            password="Kehu-Jingli-2026",
            data={"name": "甲", "branch": world.b2},
            roles=[Role.objects.get(code="manager")],
        )
    with pytest.raises(DomainError) as exc:
        services.staff_create(
            actor=world["director"],
            username="x2",
            password="Kehu-Jingli-2026",
            data={"name": "乙", "branch": world.b1},
            roles=[Role.objects.get(code="admin")],
        )
    assert exc.value.field == "roles"
    assert User.objects.count() == before


def test_weak_password_is_refused_in_chinese(world):
    with pytest.raises(DomainError) as exc:
        services.staff_create(
            actor=world["director"],
            username="x3",
            password="12345678",
            data={"name": "丙", "branch": world.b1},
            roles=[Role.objects.get(code="manager")],
        )
    assert "密码" in exc.value.message


def test_staff_create_via_ui(world, login):
    c = login("director")
    r = c.post(
        reverse("org:staff_create"),
        {
            "username": "consultant2",
            "name": "赵顾问",
            "branch": world.b1.pk,
            "roles": [Role.objects.get(code="consultant").pk],
            "practice_no": "S0570120080099",
            "password": "Tougu-2026-abc",
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:500]
    u = User.objects.get(username="consultant2")
    assert u.practice_no == "S0570120080099" and u.has_cap("advice.write")


def test_staff_edit_changes_roles_and_audits(world, login):
    c = login("director")
    m2 = world["manager2"]
    r = c.post(
        reverse("org:staff_edit", args=[m2.pk]),
        {
            "name": "李经理",
            "branch": world.b1.pk,
            "roles": [Role.objects.get(code="broker").pk],
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    assert list(User.objects.get(pk=m2.pk).roles.values_list("code", flat=True)) == ["broker"]
    assert AuditLog.objects.filter(action="staff.update", object_id=str(m2.pk)).exists()


def test_staff_form_requires_a_role(world, login):
    r = login("director").post(
        reverse("org:staff_create"),
        {
            "username": "norole",
            "name": "无角色",
            "branch": world.b1.pk,
            "password": "Tougu-2026-abc",
        },
    )
    assert "请至少选择一个角色" in r.content.decode()
    assert not User.objects.filter(username="norole").exists()


def test_role_edit_by_admin(world, login):
    role = Role.objects.get(code="agent")
    r = login("admin").post(
        reverse("org:role_edit", args=[role.pk]),
        {
            "name": "客服专员",
            "scope": "branch",
            "capabilities": ["clients.view", "personal_data.view"],
        },
    )
    assert r.status_code == 302
    role.refresh_from_db()
    assert role.capabilities == ["clients.view", "personal_data.view"]
    assert AuditLog.objects.filter(action="role.update").exists()


def test_audit_list_is_scoped_to_branch(world, login):
    from branchcare.clients import services as client_services

    client_services.client_update(
        actor=world["b2manager1"], client=world.client_b2, data={"notes": "B002 备注"}
    )
    client_services.client_update(
        actor=world["manager1"], client=world.client_m1, data={"notes": "B001 备注"}
    )
    body = login("director").get(reverse("org:audit_list")).content.decode()
    assert world.client_m1.name in body and world.client_b2.name not in body


def test_workbench_shows_cards_for_manager(world, login):
    body = login("manager1").get(reverse("home")).content.decode()
    assert "风险测评已过期" in body and "我的工作台" in body


def test_room_create_with_seats_via_ui(world, login):
    from branchcare.org.models import Room

    r = login("director").post(
        reverse("org:rooms"), {"branch": world.b1.pk, "name": "5号大户室", "kind": "vip", "seats": 6}
    )
    assert r.status_code == 302
    room = Room.objects.get(name="5号大户室")
    assert list(room.seats.values_list("label", flat=True)) == ["01", "02", "03", "04", "05", "06"]
    assert AuditLog.objects.filter(action="room.create").exists()


def test_room_create_refuses_other_branch_and_duplicates(world):
    from branchcare.org.models import Room

    with pytest.raises(DomainError):
        services.room_create(actor=world["director"], branch=world.b2, name="X", kind="vip", seats=2)
    services.room_create(actor=world["director"], branch=world.b1, name="X", kind="vip", seats=2)
    with pytest.raises(DomainError):
        services.room_create(actor=world["director"], branch=world.b1, name="X", kind="vip", seats=2)
    assert Room.objects.filter(name="X").count() == 1
