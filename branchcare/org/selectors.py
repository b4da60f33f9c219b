"""Scoped reads of staff, teams, roles and rooms."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from .capabilities import Cap
from .models import Branch, Role, Room, Team, User
from .scope import branches_for, scoped


def staff_list(*, viewer: User, capability: str = Cap.STAFF_VIEW, q: str = "") -> QuerySet[User]:
    qs = scoped(User.objects.all(), viewer, capability, owner_field=None)
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(name__icontains=q)
    return qs.select_related("branch", "team").prefetch_related("roles").order_by("branch__code", "username")


def staff_get_for(*, viewer: User, pk: Any, capability: str = Cap.STAFF_VIEW) -> User:
    try:
        return staff_list(viewer=viewer, capability=capability).get(pk=int(pk))
    except (User.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def branches_visible_to(user: User) -> QuerySet[Branch]:
    """The branches ``user`` may see listed: where they may view clients, plus their own."""
    from django.db.models import Q

    visible = Q(pk__in=branches_for(user, Cap.CLIENTS_VIEW).values("pk"))
    if user.branch_id is not None:
        visible |= Q(pk=user.branch_id)
    return Branch.objects.filter(visible).order_by("code")


def managers_for(*, viewer: User, capability: str = Cap.CLIENTS_VIEW) -> QuerySet[User]:
    """Staff who can own clients (customer managers, brokers) in the branches the viewer works in."""
    return (
        User.objects.filter(
            branch__in=branches_for(viewer, capability), is_active=True, roles__code__in=["manager", "broker"]
        )
        .distinct()
        .select_related("branch")
        .order_by("branch__code", "username")
    )


def teams_for(*, viewer: User, capability: str = Cap.STAFF_MANAGE) -> QuerySet[Team]:
    return Team.objects.filter(branch__in=branches_for(viewer, capability)).select_related("branch")


def roles_all() -> QuerySet[Role]:
    return Role.objects.annotate(user_count=Count("users")).order_by("id")


def branch_list(*, viewer: User, capability: str = Cap.CLIENTS_VIEW) -> QuerySet[Branch]:
    return branches_for(viewer, capability).select_related("company").order_by("code")


def rooms_for(*, viewer: User, capability: str = Cap.CLIENTS_VIEW) -> QuerySet[Room]:
    return (
        scoped(Room.objects.all(), viewer, capability, owner_field=None)
        .annotate(seat_count=Count("seats"))
        .select_related("branch")
    )


def audit_list(
    *, viewer: User, object_type: str = "", object_id: str = "", actor: str = "", action: str = ""
) -> QuerySet:
    """Audit records of the branches the viewer may audit (company scope: the company's branches)."""
    from django.db.models import Q

    from branchcare.core.models import AuditLog

    branch_ids = list(branches_for(viewer, Cap.AUDIT_VIEW).values_list("pk", flat=True))
    if not branch_ids:
        return AuditLog.objects.none()
    cond = Q(branch_id__in=branch_ids)
    if viewer.scope_for(Cap.AUDIT_VIEW) == "company":
        cond |= Q(branch_id__isnull=True)
    qs = AuditLog.objects.filter(cond)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor_username=actor)
    if action:
        qs = qs.filter(action__startswith=action)
    return qs.order_by("-created_at", "-id")
