"""The staff member's notification inbox (通知)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import notify


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(notify.inbox(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read_view(request: HttpRequest) -> HttpResponse:
    """Mark one (``id``) or all notifications read; HTMX requests get the updated row."""
    raw = request.POST.get("id")
    ids = [int(raw)] if raw and raw.isascii() and raw.isdigit() else None
    notify.mark_read(user=request.user, ids=ids)
    if request.headers.get("HX-Request") and ids:
        n = notify.inbox(request.user).filter(pk=ids[0]).first()
        return render(request, "core/_inbox_row.html", {"n": n}) if n else HttpResponse("")
    return redirect("core:inbox")
