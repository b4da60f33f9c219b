"""The calls page: the agent's live screen pop (HTMX polling of "my latest open call") with a one-step
inquiry/complaint form, and the call records of the branch."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchcare.core.errors import DomainError
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.typing import AuthedRequest

from . import services_calls as calls
from . import services_inquiries as svc
from .models import Inquiry
from .views_inquiries import _int, require_any_cap

PAGE_SIZE = 50


def _pop_context(request: AuthedRequest) -> dict:
    call = calls.call_current(agent=request.user)
    card = calls.client_card(client=call.client, phone=call.phone, viewer=request.user) if call else None
    return {
        "call": call,
        "card": card,
        "kinds": Inquiry.Kind.choices,
        "categories": list(svc.categories_for(call.branch_id)) if call else [],
    }


@login_required
@require_any_cap(Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
def call_list(request: AuthedRequest) -> HttpResponse:
    """Agents: the live screen pop on top and their own calls; the director: the branch's calls."""
    user = request.user
    is_agent = user.has_cap(Cap.OFFSITE_HANDLE)
    rows = list(calls.call_list(viewer=user, mine=is_agent and request.GET.get("all") != "1")[:PAGE_SIZE])
    ctx = {"rows": rows, "is_agent": is_agent, "see_personal": user.has_cap(Cap.PERSONAL_DATA_VIEW)}
    if is_agent:
        ctx.update(_pop_context(request))
    return render(request, "offsite/calls/list.html", ctx)


@login_required
@require_cap(Cap.OFFSITE_HANDLE)
def call_current(request: AuthedRequest) -> HttpResponse:
    """HTMX poll: the pop panel, or 204 (nothing to swap) when the open call is the one already shown."""
    ctx = _pop_context(request)
    shown = request.GET.get("current", "")
    current = str(ctx["call"].pk) if ctx["call"] else ""
    if shown == current:
        return HttpResponse(status=204)
    return render(request, "offsite/calls/_pop.html", ctx)


@login_required
@require_cap(Cap.OFFSITE_HANDLE)
@require_POST
def call_log(request: AuthedRequest, pk: int) -> HttpResponse:
    """Log an inquiry or complaint from the call in one step (and end the call)."""
    call = calls.call_get_for(viewer=request.user, pk=pk)
    p = request.POST
    data = svc.InquiryInput(
        kind=p.get("kind") or Inquiry.Kind.INQUIRY,
        channel=Inquiry.Channel.PHONE,
        subject=p.get("subject", ""),
        description=p.get("description", ""),
        category_id=_int(p.get("category")),
        priority=p.get("priority") or Inquiry.Priority.NORMAL,
        client_id=call.client_id,
        caller_name=p.get("caller_name", ""),
        caller_phone=call.phone,
        assignee_id=request.user.pk,
    )
    try:
        obj = svc.inquiry_create(actor=request.user, data=data, call=call)
        calls.call_end(actor=request.user, call=call)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("offsite:calls")
    messages.success(request, _("%(k)s #%(pk)s 已登记。") % {"k": obj.get_kind_display(), "pk": obj.pk})
    return redirect("offsite:inquiry_detail", pk=obj.pk)


@login_required
@require_cap(Cap.OFFSITE_HANDLE)
@require_POST
def call_end(request: AuthedRequest, pk: int) -> HttpResponse:
    call = calls.call_get_for(viewer=request.user, pk=pk)
    try:
        calls.call_end(actor=request.user, call=call, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("通话已结束。"))
    return redirect("offsite:calls")
