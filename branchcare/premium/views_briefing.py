"""The broker's daily briefing page: today's (or a chosen day's) research per premium client, the
on-demand "generate" button, and "explained" per item (recorded as a research delivery)."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchcare.core.errors import DomainError
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.typing import AuthedRequest

from . import services_briefing as svc
from .models import Briefing, BriefingItem


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


@login_required
@require_cap(Cap.PREMIUM_SERVE)
def briefing(request: AuthedRequest) -> HttpResponse:
    day = _day(request.GET.get("date"))
    b = Briefing.objects.filter(broker=request.user, date=day).first()
    entries = (
        list(
            BriefingItem.objects.filter(briefing=b)
            .select_related("client", "item__source", "item__security")
            .order_by("client__client_no", "-item__published_at", "id")
        )
        if b
        else []
    )
    groups = [(client, list(rows)) for client, rows in groupby(entries, key=lambda e: e.client)]
    recent = list(
        Briefing.objects.filter(broker=request.user).order_by("-date").values_list("date", flat=True)[:10]
    )
    return render(
        request,
        "premium/briefing.html",
        {
            "day": day,
            "briefing": b,
            "groups": groups,
            "total": len(entries),
            "explained": sum(1 for e in entries if e.explained_at),
            "recent": recent,
            "is_today": day == timezone.localdate(),
        },
    )


@login_required
@require_cap(Cap.PREMIUM_SERVE)
@require_POST
def briefing_generate(request: AuthedRequest) -> HttpResponse:
    try:
        b = svc.briefing_generate(broker=request.user, actor=request.user)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        messages.error(request, exc.message)
        return redirect("premium:briefing")
    messages.success(request, _("今日简报已生成，共 %(n)s 条。") % {"n": b.items.count()})
    return redirect("premium:briefing")


@login_required
@require_cap(Cap.PREMIUM_SERVE)
@require_POST
def briefing_explain(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = (
        BriefingItem.objects.filter(pk=pk, briefing__broker=request.user).select_related("briefing").first()
    )
    if entry is None:
        raise Http404
    try:
        svc.briefing_explain(actor=request.user, entry=entry, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已标记为已向客户讲解，并记入研究交付记录。"))
    return redirect(f"{reverse('premium:briefing')}?date={entry.briefing.date.isoformat()}")
