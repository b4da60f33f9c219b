"""Import pages: upload (preview or import), the job's result page with its progress bar, the error report
and the template files. Every view needs ``Cap.DATA_IMPORT``; jobs are fetched scoped to the branches in
which the user may import, so another branch's job is a 404."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.models import ImportJob
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch
from branchcare.org.scope import branches_for
from branchcare.org.typing import AuthedRequest

from . import import_specs  # noqa: F401  (registers the client and holdings imports)

#: Row errors listed on the page; the downloadable report has them all.
ERRORS_ON_PAGE = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导入内容"))
    branch = forms.ModelChoiceField(
        label=gettext_lazy("营业部"), queryset=Branch.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）；表头可用中文或英文列名"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
    skip_invalid = forms.BooleanField(label=gettext_lazy("跳过错误行，导入其余行"), required=False)

    def __init__(self, *args, branches, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            (s.kind, s.label) for s in imports.registered_specs()
        ]
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]


def _specs_help() -> list[dict]:
    return [{"spec": spec, "columns": spec.columns} for spec in imports.registered_specs()]


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_http_methods(["GET", "POST"])
def import_view(request: AuthedRequest) -> HttpResponse:
    """Upload form. "仅预检" validates only; "导入" validates and writes (all or nothing unless 跳过错误行)."""
    user = request.user
    branches = branches_for(user, Cap.DATA_IMPORT)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, branches=branches)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_start(
                    actor=user,
                    branch=form.cleaned_data["branch"],
                    kind=form.cleaned_data["kind"],
                    upload=upload,
                    file_name=upload.name,
                    dry_run=request.POST.get("action") != "import",
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
            except DomainError as exc:
                if exc.field is None:
                    exc.field = "file"
                add_domain_error(form, exc)
            else:
                return redirect("clients:import_job", pk=job.pk)
        status = 400
    else:
        kind = request.GET.get("kind")
        form = ImportUploadForm(
            branches=branches, initial={"branch": user.branch_id, "kind": kind if kind else "clients"}
        )
        status = 200
    labels = {spec.kind: spec.label for spec in imports.registered_specs()}
    jobs = list(imports.import_jobs_for(viewer=user)[:20])
    for job in jobs:
        job.kind_label = labels.get(job.kind, job.kind)  # type: ignore[attr-defined]
    ctx = {"form": form, "specs": _specs_help(), "jobs": jobs}
    return render(request, "clients/import/upload.html", ctx, status=status)


def _job_context(job: ImportJob) -> dict:
    spec = imports.get_spec(job.kind)
    errors = [imports.RowError.from_list(e) for e in job.errors[:ERRORS_ON_PAGE]]
    return {
        "job": job,
        "spec": spec,
        "errors": errors,
        "errors_more": max(0, len(job.errors) - ERRORS_ON_PAGE),
        "errors_total": len(job.errors),
        "labels": spec.count_labels,
        "can_confirm": job.status in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)
        and bool(job.total_rows)
        and (job.dry_run or job.error_count > 0)
        and Path(job.file_path).is_file(),
    }


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_http_methods(["GET", "POST"])
def import_job_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The job's result page (a progress bar while it runs). POST imports a previewed file for real."""
    job = imports.import_job_get_for(viewer=request.user, pk=pk)
    if request.method == "POST":
        try:
            new_job = imports.import_job_confirm(
                actor=request.user, job=job, skip_invalid=request.POST.get("skip_invalid") == "on"
            )
        except DomainError as exc:
            ctx = _job_context(job)
            ctx["confirm_error"] = exc.message
            return render(request, "clients/import/job.html", ctx, status=400)
        return redirect("clients:import_job", pk=new_job.pk)
    return render(request, "clients/import/job.html", _job_context(job))


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def import_job_progress_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The progress bar fragment, polled by HTMX every second; once the job is finished the page reloads
    to show the result (and polling stops)."""
    job = imports.import_job_get_for(viewer=request.user, pk=pk)
    response = render(request, "clients/import/_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def import_errors_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Every kept row error of the job as an xlsx (行号, 列, 值, 原因)."""
    job = imports.import_job_get_for(viewer=request.user, pk=pk)
    limit = int(settings.BRANCHCARE.get("IMPORT_MAX_ERRORS", imports.DEFAULT_MAX_ERRORS))
    data = imports.error_report_xlsx(job.errors, truncated=len(job.errors) >= limit)
    return HttpResponse(
        data,
        content_type=XLSX_TYPE,
        headers={
            "Content-Disposition": content_disposition_header(
                True, _("导入错误明细_%(pk)s.xlsx") % {"pk": job.pk}
            )
        },
    )


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def import_template_view(request: AuthedRequest, kind: str) -> HttpResponse:
    """An empty template with the Chinese headers of the ``kind`` import."""
    try:
        spec = imports.get_spec(kind)
    except DomainError:
        raise Http404 from None
    name = _("%(label)s导入模板.xlsx") % {"label": spec.label}
    return HttpResponse(
        imports.template_xlsx(spec),
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition_header(True, name)},
    )
