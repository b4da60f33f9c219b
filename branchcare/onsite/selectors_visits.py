"""Reads of plans, visits, patrols and follow-ups, always scoped to the viewer.

Who sees what: a customer manager (``Cap.ONSITE_SERVE``, own scope) sees their own plans, visits and
patrols; a director (``Cap.SUPERVISE``, branch scope) sees the whole branch. Follow-ups are seen by their
owner, their creator, the manager of the patrol/visit that raised them, and the branch's supervisors.
An object outside the viewer's scope is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from branchcare.clients.models import Client
from branchcare.org.capabilities import Cap
from branchcare.org.models import Room, User
from branchcare.org.scope import branches_for, scope_q

from .models import FollowUp, Patrol, Visit, VisitPlan

VIEW_CAPS = (Cap.ONSITE_SERVE, Cap.SUPERVISE)


def can_use(user: Any) -> bool:
    """Whether ``user`` may open the plan, visit and patrol pages at all (else 403)."""
    return bool(user and user.is_authenticated and any(user.has_cap(c) for c in VIEW_CAPS))


def is_supervisor(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_cap(Cap.SUPERVISE))


def _q(user: Any, *, branch_field: str = "branch", owner_field: str = "manager") -> Q | None:
    """Rows visible through either capability (own book as manager, branch as supervisor)."""
    out: Q | None = None
    for cap in VIEW_CAPS:
        q = scope_q(user, cap, branch_field=branch_field, owner_field=owner_field)
        if q is not None:
            out = q if out is None else out | q
    return out


def _scoped(qs: QuerySet, user: Any, **fields: str) -> QuerySet:
    q = _q(user, **fields)
    return qs.none() if q is None else qs.filter(q)


def _get(qs: QuerySet, pk: Any) -> Any:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = qs.filter(pk=pk_int).first()
    if obj is None:
        raise Http404
    return obj


# --- clients, rooms, staff -------------------------------------------------------------------------------


def serveable_clients(*, viewer: Any) -> QuerySet[Client]:
    """Clients the viewer may visit: a manager's own book, a supervisor's whole branch."""
    return _scoped(Client.objects.exclude(status=Client.Status.CLOSED), viewer)


def serveable_client_get(*, viewer: Any, pk: Any) -> Client:
    return _get(serveable_clients(viewer=viewer).select_related("branch", "manager"), pk)


def rooms_visible(*, viewer: Any) -> QuerySet[Room]:
    """The rooms of the branches where the viewer serves or supervises."""
    if not can_use(viewer):
        return Room.objects.none()
    branch_ids = set(branches_for(viewer, Cap.ONSITE_SERVE).values_list("pk", flat=True))
    branch_ids |= set(branches_for(viewer, Cap.SUPERVISE).values_list("pk", flat=True))
    return Room.objects.filter(branch_id__in=branch_ids).select_related("branch").order_by("branch", "name")


def room_get(*, viewer: Any, pk: Any) -> Room:
    return _get(rooms_visible(viewer=viewer), pk)


def managers_visible(*, viewer: Any) -> QuerySet[User]:
    """Staff whose plans the viewer may filter by: themself, or a supervisor's branch staff."""
    if is_supervisor(viewer):
        branch_ids = branches_for(viewer, Cap.SUPERVISE).values("pk")
        return User.objects.filter(branch_id__in=branch_ids, is_active=True, roles__code="manager").distinct()
    return User.objects.filter(pk=viewer.pk)


# --- plans -----------------------------------------------------------------------------------------------


def plans_visible(*, viewer: Any) -> QuerySet[VisitPlan]:
    return _scoped(VisitPlan.objects.all(), viewer)


def plan_get(*, viewer: Any, pk: Any) -> VisitPlan:
    return _get(plans_visible(viewer=viewer).select_related("manager", "branch"), pk)


def plans_for_day(*, viewer: Any, date: dt.date, manager_id: int | None = None) -> QuerySet[VisitPlan]:
    qs = plans_visible(viewer=viewer).filter(date=date)
    if manager_id:
        qs = qs.filter(manager_id=manager_id)
    return qs.select_related("manager").order_by("manager__username")


# --- visits and patrols ----------------------------------------------------------------------------------


def visits_visible(*, viewer: Any) -> QuerySet[Visit]:
    return _scoped(Visit.objects.all(), viewer)


def visit_list(
    *,
    viewer: Any,
    manager_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    planned: bool | None = None,
    client_id: int | None = None,
) -> QuerySet[Visit]:
    qs = visits_visible(viewer=viewer).select_related("client", "manager", "room").prefetch_related("orders")
    if manager_id:
        qs = qs.filter(manager_id=manager_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lt=end)
    if planned is not None:
        qs = qs.filter(plan_item__isnull=not planned)
    return qs.order_by("-at", "-pk")


def visit_get(*, viewer: Any, pk: Any) -> Visit:
    return _get(
        visits_visible(viewer=viewer)
        .select_related("client", "manager", "room", "branch", "plan_item")
        .prefetch_related("orders"),
        pk,
    )


def patrols_visible(*, viewer: Any) -> QuerySet[Patrol]:
    return _scoped(Patrol.objects.all(), viewer)


def patrol_list(
    *,
    viewer: Any,
    manager_id: int | None = None,
    room_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Patrol]:
    qs = patrols_visible(viewer=viewer).select_related("room", "manager")
    if manager_id:
        qs = qs.filter(manager_id=manager_id)
    if room_id:
        qs = qs.filter(room_id=room_id)
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lt=end)
    return qs.order_by("-at", "-pk")


def patrol_get(*, viewer: Any, pk: Any) -> Patrol:
    return _get(patrols_visible(viewer=viewer).select_related("room", "manager", "branch", "plan_item"), pk)


# --- follow-ups ------------------------------------------------------------------------------------------


def followups_visible(*, viewer: Any) -> QuerySet[FollowUp]:
    """Follow-ups the viewer owns or raised, those of their own visits and patrols, and, for a
    supervisor, every follow-up of the branch."""
    if not (viewer and viewer.is_authenticated) or viewer.branch_id is None and not is_supervisor(viewer):
        return FollowUp.objects.none()
    q = (
        Q(owner_id=viewer.pk)
        | Q(created_by_id=viewer.pk)
        | Q(patrol__manager_id=viewer.pk)
        | Q(visit__manager_id=viewer.pk)
    )
    supervised = scope_q(viewer, Cap.SUPERVISE, owner_field=None)
    if supervised is not None:
        q |= supervised
    return FollowUp.objects.filter(q)


def followup_list(
    *, viewer: Any, state: str | None = None, owner_id: int | None = None, overdue_on: dt.date | None = None
) -> QuerySet[FollowUp]:
    qs = followups_visible(viewer=viewer).select_related("owner", "client", "patrol__room")
    if state:
        qs = qs.filter(state=state)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if overdue_on:
        qs = qs.filter(state=FollowUp.State.OPEN, due_on__lt=overdue_on)
    return qs.order_by("state", "due_on", "pk")


def followup_get(*, viewer: Any, pk: Any) -> FollowUp:
    return _get(followups_visible(viewer=viewer).select_related("owner", "client"), pk)
