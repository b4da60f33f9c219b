"""Writes to staff, roles, teams and rooms. Atomic, audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from branchcare.core.audit import audit_log, diff, snapshot
from branchcare.core.errors import DomainError

from .capabilities import ALL_CAPABILITIES, SCOPE_RANK, Cap, Scope
from .models import Branch, Role, Room, Seat, Team, User
from .scope import branches_for

STAFF_FIELDS = ["name", "branch", "team", "practice_no", "phone", "email", "is_active"]


def _check_staff_placement(
    *, actor: User, branch: Branch | None, team: Team | None, roles: list[Role]
) -> None:
    if branch is None or not branches_for(actor, Cap.STAFF_MANAGE).filter(pk=branch.pk).exists():
        raise DomainError(_("只能在您管理的营业部内维护员工。"), field="branch")
    if team is not None and team.branch_id != branch.pk:
        raise DomainError(_("团队不属于所选营业部。"), field="team")
    # Nobody hands out a wider data scope than they hold themselves.
    actor_scope = actor.scope_for(Cap.STAFF_MANAGE)
    for role in roles:
        if actor_scope is None or SCOPE_RANK[Scope(role.scope)] > SCOPE_RANK[Scope(actor_scope)]:
            raise DomainError(
                _("不能授予超出您自身数据范围的角色：%(role)s。") % {"role": role.name}, field="roles"
            )


def _role_codes(user: User) -> list[str]:
    return sorted(user.roles.values_list("code", flat=True))


@transaction.atomic
def staff_create(
    *, actor: User, username: str, password: str, data: dict[str, Any], roles: list[Role]
) -> User:
    """Create a staff account with its roles. ``data`` holds keys of ``STAFF_FIELDS``."""
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("登录账号 %(u)s 已存在。") % {"u": username}, field="username")
    _check_staff_placement(actor=actor, branch=data.get("branch"), team=data.get("team"), roles=roles)
    user = User(username=username, **{k: v for k, v in data.items() if k in STAFF_FIELDS})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save()
    user.roles.set(roles)
    audit_log(
        actor=actor,
        action="staff.create",
        obj=user,
        changes={**diff({}, snapshot(user, STAFF_FIELDS)), "roles": [[], _role_codes(user)]},
    )
    return user


@transaction.atomic
def staff_update(*, actor: User, user: User, data: dict[str, Any], roles: list[Role] | None = None) -> User:
    """Change a staff member's details, placement and roles."""
    locked = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    new_branch = data.get("branch", locked.branch)
    _check_staff_placement(
        actor=actor, branch=new_branch, team=data.get("team", locked.team), roles=roles or []
    )
    if locked.pk == actor.pk and data.get("is_active") is False:
        raise DomainError(_("不能停用自己的账号。"), field="is_active")
    before = snapshot(locked, STAFF_FIELDS)
    before_roles = _role_codes(locked)
    for key, value in data.items():
        if key in STAFF_FIELDS:
            setattr(locked, key, value)
    locked.save()
    if roles is not None:
        locked.roles.set(roles)
    changes = diff(before, snapshot(locked, STAFF_FIELDS))
    after_roles = _role_codes(locked)
    if after_roles != before_roles:
        changes["roles"] = [before_roles, after_roles]
    if changes:
        audit_log(actor=actor, action="staff.update", obj=locked, changes=changes)
    return locked


@transaction.atomic
def staff_set_password(*, actor: User, user: User, password: str) -> None:
    """Set a new password (by an administrator, or by the user themself)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_log(actor=actor, action="staff.password", obj=user)


@transaction.atomic
def role_update(*, actor: User, role: Role, name: str, scope: str, capabilities: list[str]) -> Role:
    """Change a role's name, data scope and capability flags."""
    unknown = set(capabilities) - set(ALL_CAPABILITIES)
    if unknown:
        raise DomainError(_("未知权限：%(c)s") % {"c": ", ".join(sorted(unknown))}, field="capabilities")
    if scope not in Scope.values:
        raise DomainError(_("数据范围无效。"), field="scope")
    locked = Role.objects.select_for_update().get(pk=role.pk)
    before = snapshot(locked, ["name", "scope", "capabilities"])
    locked.name, locked.scope, locked.capabilities = name, scope, sorted(capabilities)
    locked.save()
    changes = diff(before, snapshot(locked, ["name", "scope", "capabilities"]))
    if changes:
        audit_log(actor=actor, action="role.update", obj=locked, changes=changes)
    return locked


@transaction.atomic
def room_create(*, actor: User, branch: Branch, name: str, kind: str, seats: int) -> Room:
    """Create a room in ``branch`` with ``seats`` numbered seats (01, 02, …)."""
    if not branches_for(actor, Cap.ORG_CONFIGURE).filter(pk=branch.pk).exists():
        raise DomainError(_("只能在您管理的营业部内设置房间。"), field="branch")
    if Room.objects.filter(branch=branch, name=name).exists():
        raise DomainError(_("本营业部已有名为“%(n)s”的房间。") % {"n": name}, field="name")
    if not 0 <= seats <= 500:
        raise DomainError(_("座位数应在 0 到 500 之间。"), field="seats")
    room = Room.objects.create(branch=branch, name=name, kind=kind, capacity=max(seats, 1))
    Seat.objects.bulk_create([Seat(room=room, label=f"{i:02d}") for i in range(1, seats + 1)])
    audit_log(
        actor=actor, action="room.create", obj=room, changes={"name": [None, name], "seats": [None, seats]}
    )
    return room
