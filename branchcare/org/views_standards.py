"""服务标准 and 交易日历 pages: a branch's versioned service standard, and the company-wide trading
calendar with its overrides and coverage declaration."""

from __future__ import annotations

import datetime as dt
import re
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.core.sla import CalendarRangeError
from branchcare.org.typing import AuthedRequest

from . import services_standards as services
from .calendar import CalendarDay, calendar_days, calendar_status, next_trading_day, standard_for
from .capabilities import Cap
from .models import Branch, CalendarCoverage, CalendarOverride, ServiceStandard, Weekday
from .scope import branches_for

CALENDAR_DAYS_SHOWN = 60
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
TIER_CHOICES = [
    ("large", gettext_lazy("大户")),
    ("medium", gettext_lazy("中户")),
    ("small", gettext_lazy("小户")),
]
_WINDOW_SPLIT = re.compile(r"[,，;；、\s]+")
_RANGE_SPLIT = re.compile(r"\s*[-–—~～至]\s*")


# --- forms ---------------------------------------------------------------------------------------------


def format_service_hours(windows: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in windows)


class ServiceStandardForm(BootstrapFormMixin, forms.Form):
    """Input only; every rule (ranges, interval order, windows) is checked by the service."""

    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        widget=DATE,
        help_text=gettext_lazy(
            "已生效的版本不能修改；选择以后的日期即新建一个版本，未生效的版本可以直接修改。"
        ),
    )
    visits_per_day = forms.IntegerField(label=gettext_lazy("每交易日拜访客户数（每位客户经理）"))
    patrols_per_day = forms.IntegerField(label=gettext_lazy("每交易日巡视次数（每位客户经理）"))
    contact_interval_large_days = forms.IntegerField(label=gettext_lazy("大户最长联系间隔（天）"))
    contact_interval_medium_days = forms.IntegerField(label=gettext_lazy("中户最长联系间隔（天）"))
    contact_interval_small_days = forms.IntegerField(label=gettext_lazy("小户最长联系间隔（天）"))
    consultation_deadline_hours = forms.DecimalField(
        label=gettext_lazy("咨询单办理时限（服务时段小时）"),
        help_text=gettext_lazy(
            "只计服务时段内的时间，例如 4 小时：14:30 提交的咨询单在下一交易日 10:30 到期。"
        ),
    )
    service_hours = forms.CharField(
        label=gettext_lazy("服务时段"),
        help_text=gettext_lazy("24 小时制，多段用逗号分隔，例如 09:30-11:30, 13:00-15:00"),
    )
    meeting_weekday = forms.TypedChoiceField(
        label=gettext_lazy("交流会星期"), choices=Weekday.choices, coerce=int
    )
    meeting_time = forms.TimeField(label=gettext_lazy("交流会时间"), widget=TIME)
    meeting_tiers = forms.MultipleChoiceField(
        label=gettext_lazy("交流会邀请层级"), choices=TIER_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    holding_drop_alert_pct = forms.DecimalField(label=gettext_lazy("持仓跌幅提醒（%）"))
    note = forms.CharField(label=gettext_lazy("调整说明"), required=False, max_length=200)

    def clean_service_hours(self) -> list[list[str]]:
        text = self.cleaned_data["service_hours"].strip()
        windows = []
        for part in filter(None, _WINDOW_SPLIT.split(text)):
            bounds = _RANGE_SPLIT.split(part)
            if len(bounds) != 2:
                raise forms.ValidationError(
                    _("“%(p)s”不是一个时段，请写成 09:30-11:30 这样的格式。") % {"p": part}
                )
            windows.append(bounds)
        return windows


class CalendarOverrideForm(BootstrapFormMixin, forms.Form):
    date = forms.DateField(label=gettext_lazy("日期"), widget=DATE)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=CalendarOverride.Kind.choices)
    name = forms.CharField(
        label=gettext_lazy("名称"), max_length=50, help_text=gettext_lazy("例如 2027年元旦")
    )


class CalendarCoverageForm(BootstrapFormMixin, forms.Form):
    known_until = forms.DateField(
        label=gettext_lazy("日历已录入至"),
        widget=DATE,
        help_text=gettext_lazy("该日期之前的节假日须已全部录入：其间的工作日都将按交易日计算。"),
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=200)


# --- helpers -------------------------------------------------------------------------------------------


def _default_effective_from(today: dt.date) -> dt.date:
    """The next trading day; tomorrow when the calendar does not reach that far."""
    try:
        return next_trading_day(today)
    except CalendarRangeError:
        return today + dt.timedelta(days=1)


def _pick_branch(branches: list[Branch], wanted: Any, user_branch_id: int | None) -> Branch | None:
    """The branch asked for (404 when it is not one of ``branches``), else the user's own, else the first."""
    if wanted:
        found = next((b for b in branches if str(b.pk) == str(wanted)), None)
        if found is None:
            raise Http404
        return found
    return next((b for b in branches if b.pk == user_branch_id), branches[0] if branches else None)


def _version_rows(versions: list[ServiceStandard], today: dt.date) -> list[dict[str, Any]]:
    """Each version with its state: 待生效 (future), 生效中 (in force today) or 已失效 (superseded)."""
    rows, current_seen = [], False
    for version in versions:  # newest first
        if version.effective_from > today:
            state = "future"
        elif not current_seen:
            state, current_seen = "current", True
        else:
            state = "past"
        rows.append({"version": version, "state": state})
    return rows


def _month_grids(days: list[CalendarDay]) -> list[dict[str, Any]]:
    """Days grouped by month into weeks of 7 cells (Monday first; None pads the edges)."""
    months = []
    for (year, month), group in groupby(days, key=lambda d: (d.date.year, d.date.month)):
        month_days = list(group)
        cells: list[CalendarDay | None] = [None] * month_days[0].date.weekday()
        cells += month_days
        cells += [None] * (-len(cells) % 7)
        months.append(
            {
                "label": _("%(y)d年%(m)d月") % {"y": year, "m": month},
                "weeks": [cells[i : i + 7] for i in range(0, len(cells), 7)],
            }
        )
    return months


# --- 服务标准 ------------------------------------------------------------------------------------------


@login_required
@require_cap(Cap.ORG_CONFIGURE)
def standards_view(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    """The branch's standard in force, the form for a new (or a future) version, and the history."""
    branches = list(branches_for(request.user, Cap.ORG_CONFIGURE).order_by("code"))
    today = timezone.localdate()
    status = calendar_status(today)
    base: ServiceStandard | None = None
    if pk is not None:
        base = ServiceStandard.objects.filter(pk=pk, branch__in=branches).select_related("branch").first()
        if base is None:
            raise Http404
        branch: Branch | None = base.branch
    else:
        branch = _pick_branch(
            branches, request.POST.get("branch") or request.GET.get("branch"), request.user.branch_id
        )
    if branch is None:
        return render(request, "org/standards/standards.html", {"branches": [], "status": status})

    versions = list(
        ServiceStandard.objects.filter(branch=branch).select_related("created_by").order_by("-effective_from")
    )
    current = standard_for(branch, today)
    base = base or (versions[0] if versions else current)
    effective_from = (
        base.effective_from if base.pk and base.effective_from > today else _default_effective_from(today)
    )
    initial = {
        **services.snapshot_values(base),
        "service_hours": format_service_hours(base.service_hours),
        "effective_from": effective_from,
    }
    form = ServiceStandardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen = data.pop("effective_from")
        try:
            saved = services.service_standard_save(
                actor=request.user, branch=branch, data=data, effective_from=chosen, today=today
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已保存 %(b)s 自 %(d)s 起生效的服务标准。") % {"b": branch.name, "d": saved.effective_from},
            )
            return redirect(f"{reverse('standards:standards')}?branch={branch.pk}")
    return render(
        request,
        "org/standards/standards.html",
        {
            "branches": branches,
            "branch": branch,
            "status": status,
            "current": current,
            "rows": _version_rows(versions, today),
            "form": form,
            "editing": base if base.pk and base.effective_from > today else None,
            "based_on": base if base.pk else None,
            "today": today,
            "tier_labels": dict(TIER_CHOICES),
        },
    )


# --- 交易日历 ------------------------------------------------------------------------------------------


def _render_calendar(
    request: AuthedRequest,
    *,
    override_form: CalendarOverrideForm | None = None,
    coverage_form: CalendarCoverageForm | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    status = calendar_status(today)
    is_admin = services.is_calendar_admin(request.user)
    if is_admin:
        override_form = override_form or CalendarOverrideForm(initial={"kind": CalendarOverride.Kind.HOLIDAY})
        coverage_form = coverage_form or CalendarCoverageForm(
            initial={"known_until": dt.date(status.known_until.year + 1, 12, 31)}
        )
    days = calendar_days(today, today + dt.timedelta(days=CALENDAR_DAYS_SHOWN - 1), strict=False)
    overrides = list(CalendarOverride.objects.select_related("created_by").order_by("date"))
    for override in overrides:
        override.weekday_label = Weekday(override.date.weekday()).label  # type: ignore[attr-defined]
    return render(
        request,
        "org/standards/calendar.html",
        {
            "status": status,
            "today": today,
            "months": _month_grids(days),
            "unknown_days": sum(1 for d in days if d.is_trading_day is None and d.weekday < 5),
            "trading_days": sum(1 for d in days if d.is_trading_day),
            "overrides": overrides,
            "coverages": CalendarCoverage.objects.select_related("created_by").order_by("-created_at", "-id")[
                :5
            ],
            "is_admin": is_admin,
            "override_form": override_form,
            "coverage_form": coverage_form,
            "weekdays": [label for _value, label in Weekday.choices],
        },
    )


@login_required
@require_cap(Cap.ORG_CONFIGURE)
def calendar_view(request: AuthedRequest) -> HttpResponse:
    """The next 60 days marked trading / closed / not yet known, the overrides and the coverage."""
    return _render_calendar(request)


def _require_calendar_admin(request: AuthedRequest) -> None:
    if not services.is_calendar_admin(request.user):
        raise PermissionDenied


@login_required
@require_cap(Cap.ORG_CONFIGURE)
@require_POST
def override_add_view(request: AuthedRequest) -> HttpResponse:
    _require_calendar_admin(request)
    form = CalendarOverrideForm(request.POST)
    if form.is_valid():
        try:
            override = services.calendar_override_add(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已录入 %(d)s %(n)s（%(k)s）。")
                % {"d": override.date, "n": override.name, "k": override.get_kind_display()},
            )
            return redirect("standards:calendar")
    return _render_calendar(request, override_form=form)


@login_required
@require_cap(Cap.ORG_CONFIGURE)
@require_POST
def override_remove_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_calendar_admin(request)
    override = CalendarOverride.objects.filter(pk=pk).first()
    if override is None:
        raise Http404
    try:
        services.calendar_override_remove(actor=request.user, override=override)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除 %(d)s %(n)s。") % {"d": override.date, "n": override.name})
    return redirect("standards:calendar")


@login_required
@require_cap(Cap.ORG_CONFIGURE)
@require_POST
def coverage_declare_view(request: AuthedRequest) -> HttpResponse:
    _require_calendar_admin(request)
    form = CalendarCoverageForm(request.POST)
    if form.is_valid():
        try:
            coverage = services.calendar_coverage_declare(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已声明交易日历录入至 %(d)s。") % {"d": coverage.known_until})
            return redirect("standards:calendar")
    return _render_calendar(request, coverage_form=form)
