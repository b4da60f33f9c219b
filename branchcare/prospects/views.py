"""Prospect pages: the list (my prospects / the pool / the branch), new and edit, the detail page with
its follow-ups and actions (step, claim, assign, link to the opened account), the list import, the
partners and the settings. Reports are in :mod:`.views_reports`."""

from __future__ import annotations

import os
import uuid
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.core.forms import add_domain_error
from branchcare.core.models import ImportJob
from branchcare.core.permissions import require_cap
from branchcare.core.workflow import history
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, User
from branchcare.org.typing import AuthedRequest

from . import selectors as sel
from . import services as svc
from .forms import FollowUpForm, ImportForm, PartnerForm, ProspectForm, SettingsForm
from .import_specs import ProspectImportSpec
from .models import Prospect
from .workflows import MANUAL_STEPS, OPEN_STAGES, PROSPECT, is_director_of, is_owner_role

PAGE_SIZE = 50


def require_prospects(view):
    """Brokers, customer managers and the director."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not sel.can_use_prospects(request.user):
            from branchcare.core.security import record_denial

            record_denial(request, reason="prospects")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _branch(user: User) -> Branch:
    """The user's branch; staff without one (company-level accounts) cannot work with prospects here."""
    if user.branch is None:
        raise PermissionDenied
    return user.branch


def _forbid_or_message(request, exc: DomainError) -> None:
    if exc.code == "forbidden":
        raise PermissionDenied from exc
    messages.error(request, exc.message)


# --- list --------------------------------------------------------------------------------------------------


@login_required
@require_prospects
def prospect_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = sel.ProspectFilters.from_params(request.GET, default_view=sel.default_view(user))
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = list(
        sel.prospect_list(viewer=user, filters=filters)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    views = [("mine", _("我的潜客")), ("pool", _("公海"))]
    if user.has_cap(Cap.SUPERVISE):
        views.append(("all", _("全营业部")))
    return render(
        request,
        "prospects/list.html",
        {
            "rows": [(p, sel.is_overdue(p, today)) for p in rows],
            "filters": filters,
            "views": views,
            "stages": Prospect.Stage.choices,
            "sources": Prospect.Source.choices,
            "segments": Prospect.Segment.choices,
            "page": page,
            "has_next": has_next,
            "has_prev": page > 1,
            "query": query.urlencode(),
            "can_claim": is_owner_role(user),
            "can_see_personal": user.has_cap(Cap.PERSONAL_DATA_VIEW),
            "is_director": user.has_cap(Cap.SUPERVISE),
        },
    )


# --- create / edit -----------------------------------------------------------------------------------------


def _owners_for_form(user: User):
    return sel.staff_owners(user.branch_id) if user.has_cap(Cap.SUPERVISE) and user.branch_id else None


@login_required
@require_prospects
@require_http_methods(["GET", "POST"])
def prospect_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.branch_id is None:
        raise PermissionDenied
    owners = _owners_for_form(user)
    initial = {"source": request.GET.get("source") or "partner", "segment": "price",
               "referral_code": request.GET.get("code", "")}  # fmt: skip
    form = ProspectForm(request.POST or None, branch=user.branch, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        if owners is not None:
            owner = form.cleaned_data.get("owner")
        else:
            owner = user if is_owner_role(user) else None
        try:
            prospect = svc.prospect_create(
                actor=user, branch=_branch(user), data=form.service_data(), owner=owner
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记潜在客户 %(n)s。") % {"n": prospect.name})
            return redirect("prospects:detail", pk=prospect.pk)
    return render(
        request, "prospects/form.html", {"form": form, "prospect": None}, status=400 if form.errors else 200
    )


@login_required
@require_prospects
@require_http_methods(["GET", "POST"])
def prospect_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    if not (prospect.owner_id == request.user.pk or is_director_of(request.user, prospect)):
        raise PermissionDenied
    initial = {
        "name": prospect.name, "phone": prospect.phone, "id_number": prospect.id_number,
        "source": prospect.source, "referral_code": prospect.partner.referral_code if prospect.partner else "",
        "referrer_no": prospect.referrer.client_no if prospect.referrer else "", "segment": prospect.segment,
        "offered_rate": prospect.offered_rate, "next_follow_up_due": prospect.next_follow_up_due,
        "notes": prospect.notes,
    }  # fmt: skip
    form = ProspectForm(request.POST or None, branch=prospect.branch, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            svc.prospect_update(actor=request.user, prospect=prospect, data=form.service_data())
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("prospects:detail", pk=prospect.pk)
    return render(
        request,
        "prospects/form.html",
        {"form": form, "prospect": prospect},
        status=400 if form.errors else 200,
    )


# --- detail and actions ------------------------------------------------------------------------------------


@login_required
@require_prospects
def prospect_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    prospect = sel.prospect_get_for(viewer=user, pk=pk)
    hands_on = (prospect.owner_id == user.pk and is_owner_role(user)) or is_director_of(user, prospect)
    steps = [t for t in PROSPECT.available(prospect, user) if t.name in MANUAL_STEPS] if hands_on else []
    return render(
        request,
        "prospects/detail.html",
        {
            "p": prospect,
            "hands_on": hands_on,
            "is_open": prospect.stage in OPEN_STAGES,
            "overdue": sel.is_overdue(prospect),
            "steps": steps,
            "follow_ups": list(prospect.follow_ups.select_related("by")[:100]),
            "history": [
                (
                    h,
                    PROSPECT.get(h.transition).label,
                    PROSPECT.label(h.from_state),
                    PROSPECT.label(h.to_state),
                )
                for h in history(prospect)
            ],
            "followup_form": FollowUpForm(),
            "can_claim": prospect.owner_id is None and prospect.stage in OPEN_STAGES and is_owner_role(user),
            "is_director": is_director_of(user, prospect),
            "owners": sel.staff_owners(prospect.branch_id) if is_director_of(user, prospect) else [],
            "can_see_personal": user.has_cap(Cap.PERSONAL_DATA_VIEW),
        },
    )


@login_required
@require_prospects
@require_POST
def prospect_followup(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("prospects:detail", pk=prospect.pk)
    d = form.cleaned_data
    try:
        svc.followup_log(
            actor=request.user, prospect=prospect, notes=d["notes"], channel=d["channel"], next_due=d["next_due"],
            step=d.get("step") or "",
        )  # fmt: skip
    except DomainError as exc:
        _forbid_or_message(request, exc)
    else:
        messages.success(request, _("已记录跟进。"))
    return redirect("prospects:detail", pk=prospect.pk)


@login_required
@require_prospects
@require_POST
def prospect_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    name = request.POST.get("name", "")
    try:
        svc.prospect_transition(
            actor=request.user, prospect=prospect, name=name, note=request.POST.get("note", "")
        )
    except DomainError as exc:
        _forbid_or_message(request, exc)
    else:
        messages.success(request, _("已完成：%(a)s") % {"a": PROSPECT.get(name).label})
    return redirect("prospects:detail", pk=prospect.pk)


@login_required
@require_prospects
@require_POST
def prospect_claim(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    try:
        svc.prospect_claim(actor=request.user, prospect=prospect)
    except DomainError as exc:
        _forbid_or_message(request, exc)
        return redirect(reverse("prospects:list") + "?view=pool")
    messages.success(request, _("已认领潜在客户 %(n)s。") % {"n": prospect.name})
    return redirect("prospects:detail", pk=prospect.pk)


@login_required
@require_cap(Cap.SUPERVISE)
@require_POST
def prospect_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    owner = None
    if request.POST.get("owner"):
        owner = User.objects.filter(pk=request.POST["owner"]).first()
        if owner is None:
            messages.error(request, _("请选择负责人。"))
            return redirect("prospects:detail", pk=prospect.pk)
    try:
        svc.prospect_assign(actor=request.user, prospect=prospect, owner=owner)
    except DomainError as exc:
        _forbid_or_message(request, exc)
    else:
        messages.success(request, _("已分配。") if owner else _("已退回公海。"))
    return redirect("prospects:detail", pk=prospect.pk)


@login_required
@require_prospects
@require_POST
def prospect_link(request: AuthedRequest, pk: int) -> HttpResponse:
    prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
    try:
        svc.prospect_link_client(
            actor=request.user, prospect=prospect, client_no=request.POST.get("client_no", "")
        )
    except DomainError as exc:
        _forbid_or_message(request, exc)
    else:
        messages.success(request, _("已关联开户客户，业绩已计入合作伙伴与负责人。"))
    return redirect("prospects:detail", pk=prospect.pk)


# --- import ------------------------------------------------------------------------------------------------


def _jobs_for(user: User):
    qs = ImportJob.objects.filter(kind=ProspectImportSpec.kind, branch=_branch(user))
    if not user.has_cap(Cap.SUPERVISE):
        qs = qs.filter(created_by=user)
    return qs.select_related("created_by").order_by("-created_at", "-pk")


def _start_job(*, user: User, path: Path, file_name: str, dry_run: bool) -> ImportJob:
    job = ImportJob.objects.create(
        kind=ProspectImportSpec.kind, branch=_branch(user), created_by=user, file_name=file_name[:255],
        file_path=str(path), dry_run=dry_run, status=ImportJob.Status.RUNNING, message=_("正在处理"),
    )  # fmt: skip
    imports.execute_job(job)
    job.refresh_from_db()
    return job


@login_required
@require_prospects
@require_http_methods(["GET", "POST"])
def prospect_import(request: AuthedRequest) -> HttpResponse:
    """Upload a prospect list: "仅预检" validates only; "导入" validates and writes all or nothing."""
    user = request.user
    if user.branch_id is None:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = os.path.basename(upload.name or "") or "upload"
        ext = os.path.splitext(name)[1].lower()
        max_bytes = int(settings.BRANCHCARE.get("IMPORT_MAX_BYTES", 50 * 1024 * 1024))
        if ext not in imports.EXTENSIONS:
            form.add_error(
                "file", _("不支持的文件类型“%(ext)s”：请上传 .xlsx 或 .csv 文件。") % {"ext": ext or name}
            )
        elif upload.size > max_bytes:
            form.add_error(
                "file", _("文件过大，上限为 %(limit)s。") % {"limit": imports.human_size(max_bytes)}
            )
        else:
            path = imports.imports_dir() / f"{uuid.uuid4().hex}{ext}"
            with open(path, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            job = _start_job(
                user=user, path=path, file_name=name, dry_run=request.POST.get("action") != "import"
            )
            return redirect("prospects:import_job", pk=job.pk)
    spec = imports.get_spec(ProspectImportSpec.kind)
    return render(
        request,
        "prospects/import.html",
        {"form": form, "spec": spec, "jobs": list(_jobs_for(user)[:10])},
        status=400 if form.errors else 200,
    )


@login_required
@require_prospects
@require_http_methods(["GET", "POST"])
def prospect_import_job(request: AuthedRequest, pk: int) -> HttpResponse:
    """The result of a preview or import; POST imports a previewed file for real."""
    user = request.user
    job = _jobs_for(user).filter(pk=pk).first()
    if job is None:
        raise Http404
    path = Path(job.file_path)
    can_confirm = job.status == ImportJob.Status.PREVIEWED and job.error_count == 0 and path.is_file()
    if request.method == "POST":
        if not can_confirm:
            messages.error(request, _("该文件已导入、有错误或已失效，请重新上传。"))
            return redirect("prospects:import_job", pk=job.pk)
        new = _start_job(user=user, path=path, file_name=job.file_name, dry_run=False)
        return redirect("prospects:import_job", pk=new.pk)
    errors = [imports.RowError.from_list(e) for e in job.errors[:200]]
    return render(
        request, "prospects/import_job.html", {"job": job, "errors": errors, "can_confirm": can_confirm}
    )


@login_required
@require_prospects
def prospect_import_template(request: AuthedRequest) -> HttpResponse:
    spec = imports.get_spec(ProspectImportSpec.kind)
    from django.utils.http import content_disposition_header

    return HttpResponse(
        imports.template_xlsx(spec),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": content_disposition_header(True, _("潜在客户名单导入模板.xlsx"))},
    )


# --- partners ----------------------------------------------------------------------------------------------


@login_required
@require_prospects
def partner_list(request: AuthedRequest) -> HttpResponse:
    from .selectors_reports import partner_league

    user = request.user
    partners = list(sel.partner_base_qs(viewer=user).select_related("branch").order_by("-active", "name"))
    figures = {row["partner"].pk: row for row in partner_league(viewer=user, partners=partners)}
    today = timezone.localdate()
    return render(
        request,
        "prospects/partners.html",
        {
            "rows": [
                (p, figures.get(p.pk), bool(p.agreement_end and p.agreement_end < today)) for p in partners
            ],
            "can_manage": user.has_cap(Cap.SUPERVISE),
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_http_methods(["GET", "POST"])
def partner_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.branch_id is None:
        raise PermissionDenied
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.partner_create(actor=user, branch=_branch(user), data=form.cleaned_data)
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            add_domain_error(form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("已登记合作伙伴。"))
            return redirect("prospects:partners")
    return render(
        request,
        "prospects/partner_form.html",
        {"form": form, "partner": None},
        status=400 if form.errors else 200,
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_http_methods(["GET", "POST"])
def partner_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    partner = sel.partner_get_for(viewer=request.user, pk=pk)
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            svc.partner_update(actor=request.user, partner=partner, data=form.cleaned_data)
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            add_domain_error(form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("已保存。"))
            return redirect("prospects:partners")
    return render(
        request,
        "prospects/partner_form.html",
        {"form": form, "partner": partner},
        status=400 if form.errors else 200,
    )


# --- settings ----------------------------------------------------------------------------------------------


@login_required
@require_cap(Cap.SUPERVISE)
@require_http_methods(["GET", "POST"])
def prospect_settings(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.branch_id is None:
        raise PermissionDenied
    current = svc.settings_for(user.branch_id)
    form = SettingsForm(request.POST or None, initial={"reclaim_days": current.reclaim_days})
    if request.method == "POST" and form.is_valid():
        try:
            svc.settings_update(
                actor=user, branch=_branch(user), reclaim_days=form.cleaned_data["reclaim_days"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存潜客开发设置。"))
            return redirect("prospects:settings")
    return render(request, "prospects/settings.html", {"form": form}, status=400 if form.errors else 200)
