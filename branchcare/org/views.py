"""Workbench, staff and role management, rooms, audit history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from branchcare.core.errors import DomainError
from branchcare.core.forms import add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.core.workbench import cards_for
from branchcare.org.typing import AuthedRequest

from . import selectors, services
from .capabilities import CAPABILITY_LABELS, Cap, Scope
from .forms import RoleForm, RoomForm, StaffForm
from .models import Role
from .scope import branches_for


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """Each role's 工作台: cards contributed by the apps through core.workbench."""
    return render(request, "org/home.html", {"cards": cards_for(request.user)})


@login_required
@require_cap(Cap.STAFF_VIEW)
def staff_list_view(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = selectors.staff_list(viewer=request.user, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    can_manage = request.user.has_cap(Cap.STAFF_MANAGE)
    return render(request, "org/staff_list.html", {"page": page, "q": q, "can_manage": can_manage})


def _staff_form(request: AuthedRequest, *, creating: bool, initial=None, data=None) -> StaffForm:
    return StaffForm(
        data,
        initial=initial,
        branches=branches_for(request.user, Cap.STAFF_MANAGE),
        teams=selectors.teams_for(viewer=request.user),
        creating=creating,
    )


@login_required
@require_cap(Cap.STAFF_MANAGE)
def staff_create_view(request: AuthedRequest) -> HttpResponse:
    form = _staff_form(
        request,
        creating=True,
        data=request.POST or None,
        initial={"branch": request.user.branch_id, "is_active": True},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.staff_create(
                actor=request.user,
                username=d["username"],
                password=d["password"],
                data={k: d[k] for k in services.STAFF_FIELDS},
                roles=list(d["roles"]),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已创建员工 %(u)s。") % {"u": user})
            return redirect("org:staff_list")
    return render(request, "org/staff_form.html", {"form": form, "creating": True})


@login_required
@require_cap(Cap.STAFF_MANAGE)
def staff_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    staff = selectors.staff_get_for(viewer=request.user, pk=pk, capability=Cap.STAFF_MANAGE)
    initial = {f: getattr(staff, f) for f in services.STAFF_FIELDS}
    initial.update(username=staff.username, roles=list(staff.roles.all()))
    form = _staff_form(request, creating=False, initial=initial, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.staff_update(
                actor=request.user,
                user=staff,
                data={k: d[k] for k in services.STAFF_FIELDS},
                roles=list(d["roles"]),
            )
            if d.get("password"):
                services.staff_set_password(actor=request.user, user=staff, password=d["password"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存员工 %(u)s。") % {"u": staff})
            return redirect("org:staff_list")
    return render(request, "org/staff_form.html", {"form": form, "creating": False, "staff": staff})


@login_required
@require_cap(Cap.STAFF_VIEW)
def role_list_view(request: AuthedRequest) -> HttpResponse:
    roles = selectors.roles_all()
    can_edit = request.user.scope_for(Cap.STAFF_MANAGE) == Scope.COMPANY
    return render(
        request, "org/role_list.html", {"roles": roles, "labels": CAPABILITY_LABELS, "can_edit": can_edit}
    )


@login_required
@require_cap(Cap.STAFF_MANAGE)
def role_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    # Roles apply across the company, so only company-scope administrators change them.
    if request.user.scope_for(Cap.STAFF_MANAGE) != Scope.COMPANY:
        raise PermissionDenied
    role = Role.objects.filter(pk=pk).first()
    if role is None:
        raise Http404
    form = RoleForm(
        request.POST or None,
        initial={"name": role.name, "scope": role.scope, "capabilities": role.capabilities},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.role_update(actor=request.user, role=role, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存角色 %(r)s。") % {"r": role.name})
            return redirect("org:roles")
    return render(request, "org/role_form.html", {"form": form, "role": role})


@login_required
@require_cap(Cap.ORG_CONFIGURE)
def room_list_view(request: AuthedRequest) -> HttpResponse:
    branches = branches_for(request.user, Cap.ORG_CONFIGURE)
    form = RoomForm(request.POST or None, branches=branches, initial={"branch": request.user.branch_id})
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已新增房间 %(r)s。") % {"r": room})
            return redirect("org:rooms")
    rooms = selectors.rooms_for(viewer=request.user, capability=Cap.ORG_CONFIGURE).prefetch_related(
        "seats__client"
    )
    return render(request, "org/room_list.html", {"rooms": rooms, "form": form})


@login_required
@require_cap(Cap.AUDIT_VIEW)
def audit_list_view(request: AuthedRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("object_type", "object_id", "actor", "action")}
    qs = selectors.audit_list(viewer=request.user, **params)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "org/audit_list.html", {"page": page, "params": params})
