"""监督考核 pages: the director dashboard (live), scorecards with drill-down, trend and exports, the
scorecard configuration (versioned), and the compliance view with the one-client history export."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branchcare.core.errors import DomainError
from branchcare.core.exports import xlsx_response
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.scope import branches_for
from branchcare.org.typing import AuthedRequest

from . import compliance as comp
from . import exports, live
from . import measures as registry
from .periods import KINDS, parse_date, period_for, pick
from .selectors import (
    assessed_roles,
    branch_for,
    drill_for,
    is_company_view,
    last_rollup,
    score_trend,
    scorecard_table,
    scorecard_versions,
    supervised_branches,
)
from .services import ROLE_LABELS, earliest_effective, rollup_request, scorecard_save

DRILL_LIMIT = 500


def _q(name: str, **params: Any) -> str:
    return f"{reverse(name)}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


# --- director dashboard ----------------------------------------------------------------------------------


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def dashboard_view(request: AuthedRequest) -> HttpResponse:
    """Today's work per person (due / done / overdue), SLA breaches, the most overdue items, clients not
    contacted within their tier interval and expired risk assessments. Company-scope supervisors first
    see every branch; a branch opens its people."""
    now = timezone.now()
    company = is_company_view(request.user)
    branch_param = request.GET.get("branch")
    if company and not branch_param:
        branches = list(supervised_branches(request.user))
        mode = "company"
    else:
        branches = [branch_for(viewer=request.user, branch_id=branch_param)]
        mode = "branch"
    ids = [b.pk for b in branches]
    dash = live.dashboard(branches=branches, now=now)
    srcs = live.sources()

    def groups(counts: dict[str, int], bkey: int, emp: int | None) -> list[dict[str, Any]]:
        """Per source: {column: (counter, count, url)} for its due / done / overdue counters."""
        out = []
        for source in srcs.values():
            cells = {
                c.column: (c, counts.get(c.key, 0), _q("supervision:dashboard_items", key=c.key, branch=bkey,
                                                       employee=emp))
                for c in source.counters
            }  # fmt: skip
            out.append({"source": source, **cells})
        return out

    for bd in dash:
        bkey = bd.branch.pk
        bd.people = [  # type: ignore[attr-defined]
            {
                "row": r,
                "groups": groups(r.live.counts, bkey, r.employee.pk),
                "uncovered_url": _q("supervision:dashboard_items", key="uncovered", branch=bkey,
                                    employee=r.employee.pk),
                "expired_url": _q("supervision:dashboard_items", key="expired", branch=bkey, employee=r.employee.pk),
            }
            for r in bd.rows
        ]  # fmt: skip
        bd.totals = groups(bd.counts, bkey, None)  # type: ignore[attr-defined]
        bd.url = _q("supervision:dashboard", branch=bkey)  # type: ignore[attr-defined]
    scope_branch = branches[0].pk if mode == "branch" else None
    breaches = [
        (s, c, n, _q("supervision:dashboard_items", key=c.key, branch=scope_branch))
        for s, c, n in live.sla_from(dash)
    ]
    return render(
        request,
        "supervision/dashboard.html",
        {
            "mode": mode,
            "company": company,
            "dash": dash,
            "branch": branches[0] if mode == "branch" and branches else None,
            "sources": list(srcs.values()),
            "breaches": breaches,
            "total_uncovered": sum(bd.uncovered for bd in dash),
            "total_expired": sum(bd.expired for bd in dash),
            "coverage_day": dash[0].coverage_day if mode == "branch" and dash else None,
            "uncovered_url": _q("supervision:dashboard_items", key="uncovered", branch=scope_branch),
            "expired_url": _q("supervision:dashboard_items", key="expired", branch=scope_branch),
            "most_overdue": live.most_overdue(ids, now),
            "now": now,
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def dashboard_items_view(request: AuthedRequest) -> HttpResponse:
    """The records behind one live counter, for a person, a branch or (company scope) every branch."""
    now = timezone.now()
    key = request.GET.get("key", "")
    branch_param = request.GET.get("branch")
    if branch_param or not is_company_view(request.user):
        branch = branch_for(viewer=request.user, branch_id=branch_param)
        branch_ids = [branch.pk]
        scope_label = branch.name
    else:
        branch = None
        branch_ids = list(supervised_branches(request.user).values_list("pk", flat=True))
        scope_label = _("全公司")
    employee = None
    emp_param = request.GET.get("employee")
    if emp_param:
        from branchcare.org.models import User

        try:
            employee = User.objects.filter(pk=int(emp_param), branch_id__in=branch_ids).first()
        except ValueError:
            employee = None
        if employee is None:
            raise Http404
    if key in ("uncovered", "expired"):
        return _client_items(
            request, key=key, branch_ids=branch_ids, employee=employee, scope_label=scope_label, now=now
        )
    source, counter, qs = live.live_items(
        key=key, branch_ids=branch_ids, employee_ids=[employee.pk] if employee else None, now=now
    )
    records = list(qs[: DRILL_LIMIT + 1])
    return render(
        request,
        "supervision/items.html",
        {
            "title": counter.label,
            "source": source,
            "overdue": counter.column == "overdue",
            "scope_label": scope_label,
            "employee": employee,
            "rows": [source.describe(o) for o in records[:DRILL_LIMIT]],
            "count": qs.count() if len(records) > DRILL_LIMIT else len(records),
            "truncated": len(records) > DRILL_LIMIT,
            "back": _q("supervision:dashboard", branch=branch.pk if branch else None),
            "now": now,
        },
    )


def _client_items(request: AuthedRequest, *, key: str, branch_ids: list[int], employee: Any, scope_label: str,
                   now: dt.datetime) -> HttpResponse:  # fmt: skip
    """The clients behind the dashboard's snapshot figures: not contacted within the tier interval, or
    risk assessment expired — as of the rollup day the figure is from (so the list matches the count)."""
    from branchcare.clients.models import Client
    from branchcare.org.models import Branch, User

    code, part, title = {
        "uncovered": ("book_coverage", "uncovered", _("超过层级联系间隔未联系的客户")),
        "expired": ("risk_expired", "num", _("风险测评已过期或缺失")),
    }[key]
    measure = registry.get(code)
    assert measure is not None
    _counts, days = live.latest_snapshot(branch_ids, code, lambda n, d: n)
    pks: list[int] = []
    for b in Branch.objects.filter(pk__in=[pk for pk in branch_ids if pk in days]):
        emp_ids = (
            [employee.pk] if employee else list(User.objects.filter(branch=b).values_list("pk", flat=True))
        )
        day = days[b.pk]
        pks += list(
            measure.drill(
                branch=b, employee_ids=emp_ids, first=day, last=day, part=part, now=now
            ).values_list("pk", flat=True)
        )
    qs = Client.objects.filter(pk__in=pks).select_related("manager").order_by("manager_id", "client_no")
    records = list(qs[: DRILL_LIMIT + 1])
    return render(
        request,
        "supervision/items.html",
        {
            "title": title,
            "scope_label": scope_label,
            "employee": employee,
            "rows": [measure.describe(c) for c in records[:DRILL_LIMIT]],
            "count": qs.count() if len(records) > DRILL_LIMIT else len(records),
            "truncated": len(records) > DRILL_LIMIT,
            "back": reverse("supervision:dashboard"),
            "now": now,
        },
    )


# --- scorecards ---------------------------------------------------------------------------------------------


def _scorecard_params(request: AuthedRequest) -> tuple[Any, str, Any]:
    branch = branch_for(viewer=request.user, branch_id=request.GET.get("branch"))
    roles = dict(assessed_roles())
    role = pick(request.GET.get("role"), roles, next(iter(roles)))
    kind = pick(request.GET.get("period"), KINDS, "month")
    period = period_for(kind, parse_date(request.GET.get("date"), timezone.localdate()))
    return branch, role, period


def _cell_urls(table: Any, line: Any) -> dict[str, dict[str, str]]:
    """Per measure the drill-down URLs of a scorecard line's numerator and denominator."""
    out: dict[str, dict[str, str]] = {}
    for item in table.version.items:
        fig = line.figures.get(item.measure.code)
        first, last = table.period.first, table.period.last
        if item.measure.aggregate == "last" and fig is not None and fig.as_of:
            first = last = fig.as_of
        params = {
            "measure": item.measure.code,
            "branch": table.branch.pk,
            "role": table.role,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "employee": line.employee.pk if line.employee else None,
            "team": line.team.pk if line.team else None,
        }
        out[item.measure.code] = {
            part: _q("supervision:drill", part=part, **params) for part in item.measure.drill_parts
        }
    return out


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def scorecards_view(request: AuthedRequest) -> HttpResponse:
    branch, role, period = _scorecard_params(request)
    table = scorecard_table(branch=branch, role=role, period=period)
    rows = []
    for line in table.lines:
        urls = _cell_urls(table, line)
        cells = []
        for item in table.version.items:
            fig = line.figures.get(item.measure.code)
            cells.append(
                {
                    "item": item,
                    "fig": fig if fig and fig.has_data else None,
                    "score": line.item_scores.get(item.measure.code),
                    "urls": urls[item.measure.code],
                }
            )
        rows.append({"line": line, "cells": cells})
    trend = score_trend(branch=branch, role=role, kind=period.kind, day=period.first)
    base = {"branch": branch.pk, "role": role, "period": period.kind}
    return render(
        request,
        "supervision/scorecards.html",
        {
            "branch": branch,
            "branches": list(supervised_branches(request.user)) if is_company_view(request.user) else [],
            "role": role,
            "roles": assessed_roles(),
            "role_label": ROLE_LABELS.get(role, role),
            "kinds": KINDS,
            "period": period,
            "table": table,
            "rows": rows,
            "trend": trend,
            "prev_url": _q("supervision:scorecards", date=period.previous().first.isoformat(), **base),
            "next_url": _q("supervision:scorecards", date=period.next().first.isoformat(), **base),
            "xlsx_url": _q("supervision:scorecards_xlsx", date=period.first.isoformat(), **base),
            "pdf_url": _q("supervision:scorecards_pdf", date=period.first.isoformat(), **base),
            "config_url": _q("supervision:scorecard_config", branch=branch.pk, role=role),
            "rollup": last_rollup(branch),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def scorecards_xlsx_view(request: AuthedRequest) -> HttpResponseBase:
    branch, role, period = _scorecard_params(request)
    table = scorecard_table(branch=branch, role=role, period=period)
    headers, rows = exports.scorecard_rows(table)
    response, _n = xlsx_response(
        filename=f"考核结果_{branch.code}_{ROLE_LABELS.get(role, role)}_{period.label}.xlsx",
        sheet_title=f"考核结果 {period.label}",
        headers=headers,
        rows=rows,
        widths=[10, 16, 14] + [16] * (len(headers) - 3),
    )
    return response


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def scorecards_pdf_view(request: AuthedRequest) -> HttpResponse:
    branch, role, period = _scorecard_params(request)
    table = scorecard_table(branch=branch, role=role, period=period)
    pdf = exports.scorecard_pdf(table, role_label=ROLE_LABELS.get(role, role))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"assessment_{branch.code}_{role}_{period.label}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_cap(Cap.SUPERVISE)
@require_GET
def drill_view(request: AuthedRequest) -> HttpResponse:
    """The records behind one scorecard figure (branch → team → person → records)."""
    today = timezone.localdate()
    drill = drill_for(
        viewer=request.user,
        measure_code=request.GET.get("measure", ""),
        branch_id=request.GET.get("branch"),
        first=parse_date(request.GET.get("first"), today),
        last=parse_date(request.GET.get("last"), today),
        part=request.GET.get("part", "num"),
        employee_id=request.GET.get("employee"),
        team_id=request.GET.get("team"),
        role=request.GET.get("role") or None,
    )
    records = list(drill.qs[: DRILL_LIMIT + 1])
    count = drill.qs.count() if len(records) > DRILL_LIMIT else len(records)
    return render(
        request,
        "supervision/drill.html",
        {
            "drill": drill,
            "part_label": drill.measure.num_label if drill.part == "num" else drill.measure.den_label,
            "rows": [drill.measure.describe(o) for o in records[:DRILL_LIMIT]],
            "count": count,
            "truncated": len(records) > DRILL_LIMIT,
            "back": _q(
                "supervision:scorecards",
                branch=drill.branch.pk,
                role=request.GET.get("role"),
                date=drill.first.isoformat(),
            ),
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_http_methods(["GET", "POST"])
def scorecard_config_view(request: AuthedRequest) -> HttpResponse:
    """Weights, targets and thresholds of a role's scorecard; saving makes a version effective from the
    first day of a later month (never the current period)."""
    source = request.POST if request.method == "POST" else request.GET
    branch = branch_for(viewer=request.user, branch_id=source.get("branch"))
    roles = dict(assessed_roles())
    role = pick(source.get("role"), roles, next(iter(roles)))
    today = timezone.localdate()
    versions = scorecard_versions(branch, role)
    current = next(
        (v for v in versions if v.effective_from is None or v.effective_from <= today), versions[-1]
    )
    earliest = earliest_effective(today)
    error = None
    if request.method == "POST":
        items = [
            {
                "measure": m.code,
                "weight": request.POST.get(f"weight_{m.code}") or "0",
                "target": request.POST.get(f"target_{m.code}"),
                "threshold": request.POST.get(f"threshold_{m.code}"),
            }
            for m in registry.for_role(role)
        ]
        try:
            card = scorecard_save(
                actor=request.user,
                branch=branch,
                role=role,
                items=items,
                note=request.POST.get("note", ""),
                effective_from=parse_date(request.POST.get("effective_from"), earliest),
                today=today,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("考核方案已保存，自 %(d)s 起生效；本期及以前的评分不变。")
                % {"d": card.effective_from.isoformat()},
            )
            return redirect(_q("supervision:scorecard_config", branch=branch.pk, role=role))
    base = versions[0] if versions[0].effective_from and versions[0].effective_from > today else current
    weights = {i.measure.code: i for i in base.items}
    rows = [
        {
            "measure": m,
            "weight": request.POST.get(f"weight_{m.code}") if error else (weights[m.code].weight if m.code in weights else 0),
            "target": request.POST.get(f"target_{m.code}") if error else (weights[m.code].target if m.code in weights else ""),
            "threshold": request.POST.get(f"threshold_{m.code}") if error else (weights[m.code].threshold if m.code in weights else ""),
        }
        for m in registry.for_role(role)
    ]  # fmt: skip
    return render(
        request,
        "supervision/scorecard_config.html",
        {
            "branch": branch,
            "branches": list(supervised_branches(request.user)) if is_company_view(request.user) else [],
            "role": role,
            "roles": assessed_roles(),
            "rows": rows,
            "versions": versions,
            "current": current,
            "earliest": earliest,
            "error": error,
            "note": request.POST.get("note", "") if error else "",
            "effective_from": request.POST.get("effective_from", earliest.isoformat())
            if error
            else earliest.isoformat(),
            "today": today,
        },
    )


@login_required
@require_cap(Cap.SUPERVISE)
@require_POST
def recompute_view(request: AuthedRequest) -> HttpResponse:
    """Recompute the branch's rollups for a date range now (idempotent)."""
    branch = branch_for(viewer=request.user, branch_id=request.POST.get("branch"))
    today = timezone.localdate()
    first = parse_date(request.POST.get("first"), today.replace(day=1))
    last = min(parse_date(request.POST.get("last"), today), today)
    try:
        n = rollup_request(actor=request.user, branch=branch, first=first, last=last)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已重算 %(a)s 至 %(b)s 的考核数据（%(n)s 行）。") % {"a": first, "b": last, "n": n}
        )
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = _q("supervision:scorecards", branch=branch.pk)
    return redirect(target)


# --- compliance -----------------------------------------------------------------------------------------------


def _compliance_branch_ids(request: AuthedRequest) -> list[int]:
    return list(branches_for(request.user, Cap.COMPLIANCE_REVIEW).values_list("pk", flat=True))


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def compliance_view(request: AuthedRequest) -> HttpResponse:
    now = timezone.now()
    ids = _compliance_branch_ids(request)
    results = []
    for c in comp.checks():
        try:
            count: int | None = c.query(ids, now).count()
        except FieldError:  # a source app changed under us: show the check as unavailable
            count = None
        results.append({"check": c, "count": count})
    return render(
        request,
        "supervision/compliance.html",
        {"results": results, "now": now, "client_no": request.GET.get("client_no", "")},
    )


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def compliance_check_view(request: AuthedRequest, code: str) -> HttpResponse:
    now = timezone.now()
    check = comp.check_get(code)
    qs = check.query(_compliance_branch_ids(request), now)
    records = list(qs[: DRILL_LIMIT + 1])
    return render(
        request,
        "supervision/items.html",
        {
            "title": check.label,
            "scope_label": check.rule,
            "rows": [check.describe(o) for o in records[:DRILL_LIMIT]],
            "count": qs.count() if len(records) > DRILL_LIMIT else len(records),
            "truncated": len(records) > DRILL_LIMIT,
            "back": reverse("supervision:compliance"),
            "back_label": _("返回合规检查"),
            "now": now,
        },
    )


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def history_find_view(request: AuthedRequest) -> HttpResponse:
    """Find a client by client number (within the compliance scope) and open their history."""
    from branchcare.clients.selectors import client_base_qs

    client_no = (request.GET.get("client_no") or "").replace("\x00", "").strip()[:20]
    found = (
        client_base_qs(viewer=request.user, capability=Cap.COMPLIANCE_REVIEW)
        .filter(client_no=client_no)
        .first()
        if client_no
        else None
    )
    if found is None:
        messages.error(
            request, _("没有找到客户号为 %(n)s 的客户（仅限您负责的营业部）。") % {"n": client_no or "—"}
        )
        return redirect(f"{reverse('supervision:compliance')}?{urlencode({'client_no': client_no})}")
    return redirect("supervision:history", pk=found.pk)


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def history_view(request: AuthedRequest, pk: int) -> HttpResponse:
    client = comp.client_for_history(viewer=request.user, pk=pk)
    history = comp.client_history(viewer=request.user, client=client)
    comp.history_export_audit(viewer=request.user, client=client, fmt="view", lines=len(history.lines))
    return render(request, "supervision/history.html", {"history": history, "client": client})


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def history_xlsx_view(request: AuthedRequest, pk: int) -> HttpResponseBase:
    client = comp.client_for_history(viewer=request.user, pk=pk)
    history = comp.client_history(viewer=request.user, client=client)
    rows = exports.history_rows(history)
    comp.history_export_audit(viewer=request.user, client=client, fmt="xlsx", lines=len(rows))
    response, _n = xlsx_response(
        filename=f"客户服务记录_{client.client_no}.xlsx",
        sheet_title=f"客户服务记录 {client.client_no}",
        headers=exports.HISTORY_HEADERS,
        rows=rows,
        widths=[18, 16, 36, 70, 14],
    )
    return response


@login_required
@require_cap(Cap.COMPLIANCE_REVIEW)
@require_GET
def history_pdf_view(request: AuthedRequest, pk: int) -> HttpResponse:
    client = comp.client_for_history(viewer=request.user, pk=pk)
    history = comp.client_history(viewer=request.user, client=client)
    pdf = exports.history_pdf(history)
    comp.history_export_audit(
        viewer=request.user, client=client, fmt="pdf", lines=len(history.lines) + len(history.audit)
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="client_history_{client.client_no}.pdf"'
    return response
