"""The one place that turns (user, capability) into a queryset filter. Every selector calls it."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .capabilities import Scope


def scope_q(
    user,
    capability: str,
    *,
    branch_field: str = "branch",
    owner_field: str | None = "manager",
) -> Q | None:
    """A ``Q`` selecting the rows ``user`` may see with ``capability``; None when not allowed at all.

    ``owner_field`` names the FK to the owning staff member (own/team scopes); ``branch_field`` the FK
    to the branch. A row type without an owner treats own/team scope as the user's branch.
    """
    scope = user.scope_for(capability) if user and user.is_authenticated else None
    if scope is None:
        return None
    if scope == Scope.COMPANY:
        if user.branch_id is None:
            return Q()
        return Q(**{f"{branch_field}__company_id": user.branch.company_id})
    if user.branch_id is None:
        return Q(pk__in=[])
    if scope == Scope.BRANCH or owner_field is None:
        return Q(**{f"{branch_field}_id": user.branch_id})
    if scope == Scope.TEAM and user.team_id:
        return Q(**{f"{branch_field}_id": user.branch_id, f"{owner_field}__team_id": user.team_id})
    return Q(**{f"{branch_field}_id": user.branch_id, f"{owner_field}_id": user.pk})


def scoped(qs: QuerySet, user, capability: str, **fields) -> QuerySet:
    """``qs`` narrowed to what ``user`` may see with ``capability`` (empty when not allowed)."""
    q = scope_q(user, capability, **fields)
    if q is None:
        return qs.none()
    return qs.filter(q)


def branches_for(user, capability: str) -> QuerySet:
    """The branches in which ``user`` holds ``capability``."""
    from .models import Branch

    scope = user.scope_for(capability) if user and user.is_authenticated else None
    if scope is None:
        return Branch.objects.none()
    if scope == Scope.COMPANY:
        if user.branch_id is None:
            return Branch.objects.all()
        return Branch.objects.filter(company_id=user.branch.company_id)
    return Branch.objects.filter(pk=user.branch_id)
