"""Client list, client 360 page, create/edit, export, bulk reassign, tier thresholds."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchcare.core import client_panels, timeline
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.exports import xlsx_response
from branchcare.core.forms import add_domain_error
from branchcare.core.masking import mask_id_number, mask_phone
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.models import Seat
from branchcare.org.scope import branches_for
from branchcare.org.selectors import managers_for
from branchcare.org.typing import AuthedRequest

from . import selectors, services
from .forms import ClientForm, ReassignForm, TierSettingsForm
from .models import Client

PAGE_SIZES = (20, 50, 100)
EXPORT_MAX_ROWS = 200_000


def _page_size(request: AuthedRequest) -> int:
    try:
        size = int(request.GET.get("page_size", 50))
    except ValueError:
        size = 50
    return size if size in PAGE_SIZES else 50


@login_required
@require_cap(Cap.CLIENTS_VIEW)
def client_list_view(request: AuthedRequest) -> HttpResponse:
    """Dense, filterable client list. HTMX requests get just the table."""
    filters = selectors.ClientFilters.from_params(request.GET)
    qs = selectors.client_list(viewer=request.user, filters=filters)
    size = _page_size(request)
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = list(qs[(page - 1) * size : page * size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    # On the first page a short result is its own count; only longer lists need the (capped) COUNT.
    total, capped = (len(rows), False) if page == 1 and not has_next else selectors.count_capped(qs)
    params = request.GET.copy()
    params.pop("page", None)
    user = request.user
    ctx = {
        "rows": rows,
        "filters": filters,
        "page": page,
        "has_next": has_next,
        "has_prev": page > 1,
        "total": total,
        "capped": capped,
        "page_size": size,
        "page_sizes": PAGE_SIZES,
        "query": params.urlencode(),
        "can_pd": user.has_cap(Cap.PERSONAL_DATA_VIEW),
        "can_reassign": user.has_cap(Cap.CLIENTS_REASSIGN),
        "can_export": user.has_cap(Cap.CLIENTS_EXPORT),
        "can_create": user.has_cap(Cap.CLIENTS_CREATE),
        "branches": list(branches_for(user, Cap.CLIENTS_VIEW)),
        "managers": list(managers_for(viewer=user)),
        "tiers": Client.Tier.choices,
        "risk_levels": Client.RiskLevel.choices,
        "statuses": Client.Status.choices,
    }
    template = (
        "clients/_list_table.html"
        if request.htmx and request.htmx.target == "client-table"
        else "clients/list.html"
    )
    return render(request, template, ctx)


@login_required
@require_cap(Cap.CLIENTS_VIEW)
def client_detail_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The client 360 page: profile, holdings with P/L, and the service timeline."""
    client = selectors.client_get_for(viewer=request.user, pk=pk)
    holdings = selectors.holdings_for(client=client)
    totals = selectors.holdings_totals(holdings)
    can_edit = (
        selectors.client_base_qs(viewer=request.user, capability=Cap.CLIENTS_EDIT)
        .filter(pk=client.pk)
        .exists()
    )
    return render(
        request,
        "clients/detail.html",
        {
            "c": client,
            "holdings": holdings,
            "market_total": totals.market_value,
            "pnl_total": totals.pnl,
            "can_pd": request.user.has_cap(Cap.PERSONAL_DATA_VIEW),
            "can_edit": can_edit,
            "can_audit": request.user.has_cap(Cap.AUDIT_VIEW),
            "can_serve": request.user.has_cap(Cap.ONSITE_SERVE),
            "events": _timeline(request, client),
            "window": request.GET.get("window", "365"),
            "panels": client_panels.panels_for(client, request.user),
        },
    )


def _timeline(request: AuthedRequest, client: Client) -> list[timeline.TimelineEvent]:
    window = request.GET.get("window", "365")
    end = timezone.now()
    days = {"30": 30, "90": 90, "365": 365, "all": 365 * 50}.get(window, 365)
    return timeline.events_for_client(
        client=client, viewer=request.user, start=end - dt.timedelta(days=days), end=end
    )


@login_required
@require_cap(Cap.CLIENTS_VIEW)
def client_timeline_view(request: AuthedRequest, pk: int) -> HttpResponse:
    client = selectors.client_get_for(viewer=request.user, pk=pk)
    return render(
        request,
        "clients/_timeline.html",
        {"c": client, "events": _timeline(request, client), "window": request.GET.get("window", "365")},
    )


def _form(
    request: AuthedRequest, *, branch_id: int, client: Client | None = None, data=None, initial=None
) -> ClientForm:
    return ClientForm(
        data,
        initial=initial,
        managers=managers_for(viewer=request.user).filter(branch_id=branch_id),
        seats=Seat.objects.filter(room__branch_id=branch_id).select_related("room"),
        personal_data=request.user.has_cap(Cap.PERSONAL_DATA_VIEW),
        can_reassign=request.user.has_cap(Cap.CLIENTS_REASSIGN),
    )


@login_required
@require_cap(Cap.CLIENTS_CREATE)
def client_create_view(request: AuthedRequest) -> HttpResponse:
    branch = request.user.branch
    if branch is None:
        messages.error(request, _("您的账号未关联营业部，无法新建客户。"))
        return redirect("clients:list")
    form = _form(
        request, branch_id=branch.pk, data=request.POST or None, initial={"opened_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(actor=request.user, branch=branch, data=form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已建立客户档案 %(c)s。") % {"c": client})
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/form.html", {"form": form, "creating": True})


@login_required
@require_cap(Cap.CLIENTS_EDIT)
def client_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    client = selectors.client_get_for(viewer=request.user, pk=pk, capability=Cap.CLIENTS_EDIT)
    initial = {f: getattr(client, f) for f in services.EDITABLE_FIELDS}
    initial["tags"] = " ".join(client.tags or [])
    initial["version"] = client.version
    form = _form(
        request, branch_id=client.branch_id, client=client, data=request.POST or None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=request.user,
                client=client,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存客户资料。"))
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/form.html", {"form": form, "creating": False, "c": client})


@login_required
@require_cap(Cap.CLIENTS_EXPORT)
def client_export_view(request: AuthedRequest) -> FileResponse:
    """The filtered list as Excel; personal data masked unless the user may see it. Audited."""
    filters = selectors.ClientFilters.from_params(request.GET)
    qs = selectors.client_list(viewer=request.user, filters=filters)
    can_pd = request.user.has_cap(Cap.PERSONAL_DATA_VIEW)
    headers = [
        _("营业部"),
        _("客户号"),
        _("姓名"),
        _("手机"),
        _("证件号码"),
        _("状态"),
        _("风险等级"),
        _("风险测评日期"),
        _("总资产（元）"),
        _("客户层级"),
        _("高端客户"),
        _("佣金率（‰）"),
        _("客户经理"),
        _("开户日期"),
        _("标签"),
    ]

    def rows():
        for c in qs[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
            yield [
                c.branch.code,
                c.client_no,
                c.name,
                c.phone if can_pd else mask_phone(c.phone),
                c.id_number if can_pd else mask_id_number(c.id_number),
                c.get_status_display(),
                c.risk_level,
                c.risk_assessed_on,
                float(c.total_assets),
                c.get_tier_display(),
                _("是") if c.is_premium else _("否"),
                float(c.commission_rate) if c.commission_rate is not None else None,
                str(c.manager) if c.manager else "",
                c.opened_on,
                " ".join(c.tags or []),
            ]

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response, n = xlsx_response(
        filename=f"clients-{stamp}.xlsx",
        sheet_title=_("客户列表"),
        headers=headers,
        rows=rows(),
        widths=[8, 14, 10, 15, 22, 8, 10, 13, 16, 9, 9, 11, 10, 12, 20],
    )
    audit_log(
        actor=request.user,
        action="client.export",
        object_type="clients.client",
        object_repr=_("客户列表导出"),
        branch_id=request.user.branch_id,
        changes={"rows": [None, n], "filters": [None, request.GET.urlencode()], "masked": [None, not can_pd]},
    )
    return response


@login_required
@require_cap(Cap.CLIENTS_REASSIGN)
@require_POST
def client_reassign_view(request: AuthedRequest) -> HttpResponse:
    form = ReassignForm(
        request.POST, managers=managers_for(viewer=request.user, capability=Cap.CLIENTS_REASSIGN)
    )
    back = request.POST.get("next") or reverse("clients:list")
    if not back.startswith("/"):
        back = reverse("clients:list")
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect(back)
    try:
        moved = services.clients_reassign(
            actor=request.user, client_ids=form.cleaned_data["clients"], manager=form.cleaned_data["manager"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已将 %(n)d 位客户划转给 %(m)s。") % {"n": moved, "m": form.cleaned_data["manager"]}
        )
    return redirect(back)


@login_required
@require_cap(Cap.ORG_CONFIGURE)
def tier_settings_view(request: AuthedRequest) -> HttpResponse:
    branches = list(branches_for(request.user, Cap.ORG_CONFIGURE))
    branch_id = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.pk) == str(branch_id)), None) or (
        next((b for b in branches if b.pk == request.user.branch_id), branches[0] if branches else None)
    )
    if branch is None:
        return render(request, "clients/tier_settings.html", {"branches": [], "form": None})
    form = TierSettingsForm(
        request.POST or None,
        initial={"large_threshold": branch.large_threshold, "medium_threshold": branch.medium_threshold},
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.branch_tier_thresholds_update(
                actor=request.user,
                branch=branch,
                large=form.cleaned_data["large_threshold"],
                medium=form.cleaned_data["medium_threshold"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存门槛，%(n)d 位客户的层级随之调整。") % {"n": changed})
            return redirect(f"{reverse('clients:tier_settings')}?branch={branch.pk}")
    return render(
        request, "clients/tier_settings.html", {"branches": branches, "branch": branch, "form": form}
    )
