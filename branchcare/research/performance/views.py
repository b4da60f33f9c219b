"""推荐绩效 pages: the league table (per analyst and per source, with charts), one recommendation's price
path against the benchmark, and the price import (upload → preview with row errors → import, all or
nothing). Reading needs any research-reading capability; importing needs ``Cap.DATA_IMPORT``."""

from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.models import ImportJob
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.scope import branches_for
from branchcare.org.typing import AuthedRequest

from . import import_specs
from . import selectors as sel
from .calc import HORIZONS
from .services import benchmark_security

PAGE_SIZE = 50
ERRORS_ON_PAGE = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def require_research_read(view):
    """Any role that reads research (研究员, 合规, 投资顾问, 经纪人, 客户经理, 营业部经理)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not sel.can_read(request.user):
            from branchcare.core.security import record_denial

            record_denial(request, reason="research.read")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- league table ------------------------------------------------------------------------------------------

COLUMNS = (
    ("name", gettext_lazy("名称")),
    ("count", gettext_lazy("推荐数")),
    ("hit_rate", gettext_lazy("命中率")),
    ("excess_5", gettext_lazy("5日超额")),
    ("excess_20", gettext_lazy("20日超额")),
    ("excess_60", gettext_lazy("60日超额")),
)


def _sort_links(request: AuthedRequest, param: str, current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the URL that sorts by it (clicking the current column reverses it) and the
    arrow to show."""
    links = {}
    for key, _label in COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        active = current.lstrip("-") == key
        query[param] = f"-{key}" if active and not current.startswith("-") else key
        arrow = ""
        if active:
            arrow = "bi-sort-up" if current.startswith("-") else "bi-sort-down"
        links[key] = {"url": "?" + query.urlencode(), "arrow": arrow}
    return links


def _pct(value: Any) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def _chart(rows: list[sel.LeagueRow], *, by: str, base_query: dict[str, str]) -> dict[str, Any]:
    names = [r.name for r in rows]
    urls = [
        "?" + urlencode({**base_query, by: str(r.key)}) + "#recommendations" if r.key is not None else ""
        for r in rows
    ]
    return {
        "names": names,
        "urls": urls,
        "series": [
            {
                "name": _("%(n)d日平均超额收益") % {"n": n},
                "data": [_pct(getattr(r, f"avg_excess_{n}")) for r in rows],
            }
            for n in HORIZONS
        ],
    }


@login_required
@require_research_read
@require_GET
def league_view(request: AuthedRequest) -> HttpResponse:
    """The league table: per analyst and per source, sortable, with bar charts of the average excess
    return; below it the recommendations themselves (filtered by a click on an analyst or source)."""
    user = request.user
    today = timezone.localdate()
    params = request.GET.copy()
    if "period" not in params and "since" not in params:
        params["period"] = "all"
    filters = sel.LeagueFilters.from_params(params, today=today)
    group_filters = sel.LeagueFilters(since=filters.since, until=filters.until)
    sort_a = request.GET.get("sort_a") or "excess_20"
    sort_s = request.GET.get("sort_s") or "excess_20"
    authors = sel.league(viewer=user, by="author", filters=group_filters, sort=sort_a)
    sources = sel.league(viewer=user, by="source", filters=group_filters, sort=sort_s)
    totals = sel.league_totals(viewer=user, filters=group_filters)
    paginator = Paginator(sel.outcome_list(viewer=user, filters=filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    base_query = {"period": params.get("period", "")} if params.get("period") else {}
    if request.GET.get("since"):
        base_query["since"] = request.GET["since"]
    if request.GET.get("until"):
        base_query["until"] = request.GET["until"]
    chart_data = {
        "charts": [
            {
                "id": "chart-authors",
                "title": _("分析师平均超额收益"),
                **_chart(authors, by="author", base_query=base_query),
            },
            {
                "id": "chart-sources",
                "title": _("研究来源平均超额收益"),
                **_chart(sources, by="source", base_query=base_query),
            },
        ]
    }
    filter_name = ""
    if filters.author:
        filter_name = next((r.name for r in authors if r.key == filters.author), "")
    elif filters.source:
        filter_name = next((r.name for r in sources if r.key == filters.source), "")
    bench = benchmark_security()
    return render(
        request,
        "research_performance/league.html",
        {
            "authors": authors,
            "sources": sources,
            "totals": totals,
            "page": page,
            "rows": page.object_list,
            "filters": filters,
            "filter_name": filter_name,
            "period": params.get("period", ""),
            "periods": {
                "3m": _("近3个月"),
                "6m": _("近6个月"),
                "1y": _("近1年"),
                "all": _("全部"),
            },
            "sort_a": _sort_links(request, "sort_a", sort_a),
            "sort_s": _sort_links(request, "sort_s", sort_s),
            "chart_data": chart_data,
            "base_query": urlencode(base_query),
            "benchmark": bench,
            "can_import": user.has_cap(Cap.DATA_IMPORT),
            "horizons": HORIZONS,
        },
    )


def _item_url(item_id: int) -> str:
    try:
        return reverse("research:item_detail", args=[item_id])
    except NoReverseMatch:
        return ""


@login_required
@require_research_read
@require_GET
def recommendation_view(request: AuthedRequest, item_id: int) -> HttpResponse:
    """One recommendation: entry, returns vs the benchmark at 5/20/60 trading days, target / stop-loss,
    and the chart of its price path against 沪深300 since publication."""
    outcome = sel.outcome_get_for(viewer=request.user, item_id=item_id)
    path = sel.outcome_price_path(outcome)
    entry = outcome.entry_price
    lines = {}
    item = outcome.item
    if entry:
        if item.target_price:
            lines["target"] = round(float(item.target_price / entry - 1) * 100, 2)
        if item.stop_loss:
            lines["stop"] = round(float(item.stop_loss / entry - 1) * 100, 2)
    horizons = []
    for n in HORIZONS:
        ret, bret, excess = outcome.horizon(n)
        horizons.append({"n": n, "ret": ret, "bench": bret, "excess": excess})
    marks = [{"n": n, "day": h.isoformat()} for n, h in _horizon_days(path).items()]
    chart = {
        "dates": [p[0].isoformat() for p in path],
        "security": [p[1] for p in path],
        "benchmark": [p[2] for p in path],
        "security_name": f"{outcome.security.code} {outcome.security.name}",
        "benchmark_name": _("沪深300"),
        "lines": lines,
        "marks": marks,
        "labels": {"target": _("目标价"), "stop": _("止损价")},
    }
    return render(
        request,
        "research_performance/recommendation.html",
        {
            "o": outcome,
            "item": item,
            "item_url": _item_url(item.pk),
            "horizons": horizons,
            "chart_data": chart,
            "inverted": outcome.direction in ("reduce", "sell"),
        },
    )


def _horizon_days(path: list) -> dict:
    """The dates of the 5th / 20th / 60th trading day on the path (the path starts at the entry)."""
    return {n: path[n][0] for n in HORIZONS if len(path) > n}


# --- price import ------------------------------------------------------------------------------------------


class PriceUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("行情文件"),
        help_text=gettext_lazy(
            "支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）；列：证券代码、日期、收盘价（或 security_code, date, close）"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )


def _import_branch(user: Any) -> Any:
    """Prices belong to no branch; the job is recorded under the user's own branch when allowed."""
    branches = branches_for(user, Cap.DATA_IMPORT)
    return branches.filter(pk=user.branch_id).first() or branches.order_by("code").first()


def _price_job(user: Any, pk: Any) -> ImportJob:
    job = imports.import_job_get_for(viewer=user, pk=pk)
    if job.kind != import_specs.KIND:
        raise Http404
    return job


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_http_methods(["GET", "POST"])
def price_import_view(request: AuthedRequest) -> HttpResponse:
    """Upload a price file: "预检" validates only and lists every bad row; "导入" writes all rows or none."""
    user = request.user
    status = 200
    if request.method == "POST":
        form = PriceUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            branch = _import_branch(user)
            try:
                if branch is None:
                    raise DomainError(_("您没有可导入数据的营业部。"), field="file")
                job = imports.import_job_start(
                    actor=user,
                    branch=branch,
                    kind=import_specs.KIND,
                    upload=upload,
                    file_name=upload.name,
                    dry_run=request.POST.get("action") != "import",
                )
            except DomainError as exc:
                if exc.field is None:
                    exc.field = "file"
                add_domain_error(form, exc)
            else:
                return redirect("research_performance:price_import_job", pk=job.pk)
        status = 400
    else:
        form = PriceUploadForm()
    jobs = list(imports.import_jobs_for(viewer=user).filter(kind=import_specs.KIND)[:20])
    spec = imports.get_spec(import_specs.KIND)
    return render(
        request,
        "research_performance/price_import.html",
        {"form": form, "jobs": jobs, "spec": spec, "benchmark": benchmark_security()},
        status=status,
    )


def _job_context(job: ImportJob) -> dict:
    spec = imports.get_spec(job.kind)
    return {
        "job": job,
        "spec": spec,
        "errors": [imports.RowError.from_list(e) for e in job.errors[:ERRORS_ON_PAGE]],
        "errors_more": max(0, len(job.errors) - ERRORS_ON_PAGE),
        "errors_total": len(job.errors),
        "labels": spec.count_labels,
        "can_confirm": job.status == ImportJob.Status.PREVIEWED
        and job.dry_run
        and job.error_count == 0
        and bool(job.total_rows)
        and Path(job.file_path).is_file(),
    }


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_http_methods(["GET", "POST"])
def price_import_job_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The result of a preview or an import; POST imports a previewed file that had no bad rows."""
    job = _price_job(request.user, pk)
    if request.method == "POST":
        try:
            if job.error_count:
                raise DomainError(_("文件中有错误行，不能导入：请修正后重新上传。"))
            new_job = imports.import_job_confirm(actor=request.user, job=job)
        except DomainError as exc:
            ctx = _job_context(job)
            ctx["confirm_error"] = exc.message
            return render(request, "research_performance/price_import_job.html", ctx, status=400)
        return redirect("research_performance:price_import_job", pk=new_job.pk)
    return render(request, "research_performance/price_import_job.html", _job_context(job))


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def price_import_progress_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The progress fragment polled by HTMX; reloads the page when the job has finished."""
    job = _price_job(request.user, pk)
    response = render(request, "research_performance/_import_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def price_import_errors_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The job's row errors as an xlsx (行号, 列, 值, 原因)."""
    job = _price_job(request.user, pk)
    limit = int(settings.BRANCHCARE.get("IMPORT_MAX_ERRORS", imports.DEFAULT_MAX_ERRORS))
    data = imports.error_report_xlsx(job.errors, truncated=len(job.errors) >= limit)
    name = _("行情导入错误明细_%(pk)s.xlsx") % {"pk": job.pk}
    return HttpResponse(
        data, content_type=XLSX_TYPE, headers={"Content-Disposition": content_disposition_header(True, name)}
    )


@login_required
@require_cap(Cap.DATA_IMPORT)
@require_GET
def price_template_view(request: AuthedRequest) -> HttpResponse:
    """An empty price template with the Chinese headers."""
    spec = imports.get_spec(import_specs.KIND)
    return HttpResponse(
        imports.template_xlsx(spec),
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition_header(True, _("行情导入模板.xlsx"))},
    )
