"""Return-visit pages: the task list, one visit (script, questionnaire, attempts, problem → inquiry),
reassignment, the on-demand annual sample, the coverage report and the rules configuration."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.typing import AuthedRequest

from . import services_visits as svc
from .models import Inquiry, InquiryCategory, ReturnVisit, ReturnVisitRule
from .services_inquiries import settings_for
from .views_inquiries import _int, require_any_cap

PAGE_SIZE = 50
VIEW_CAPS = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)
RULE_CAPS = (Cap.ORG_CONFIGURE, Cap.COMPLIANCE_REVIEW)


@login_required
@require_any_cap(*VIEW_CAPS)
def revisit_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    params = request.GET.copy()
    if user.has_cap(Cap.OFFSITE_HANDLE) and not params:
        params.update({"mine": "1", "state": ReturnVisit.State.OPEN})
    filters = svc.VisitFilters.from_params(params)
    today = timezone.localdate()
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = list(
        svc.visit_list(viewer=user, filters=filters, today=today)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "offsite/revisits/list.html",
        {
            "rows": rows[:PAGE_SIZE],
            "filters": filters,
            "states": ReturnVisit.State.choices,
            "rules": ReturnVisitRule.Kind.choices,
            "today": today,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "query": query.urlencode(),
            "can_sample": user.has_cap(Cap.SUPERVISE) or user.has_cap(Cap.COMPLIANCE_REVIEW),
        },
    )


@login_required
@require_any_cap(*VIEW_CAPS)
def revisit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The visit with its script and questionnaire; the assignee records an attempt here (POST)."""
    visit = svc.visit_get_for(viewer=request.user, pk=pk)
    is_assignee = visit.assignee_id == request.user.pk and visit.state == ReturnVisit.State.OPEN
    if request.method == "POST":
        if not is_assignee:
            raise PermissionDenied
        p = request.POST
        answers = {q: p.get(f"q{i}", "") for i, q in enumerate(visit.rule.questions)}
        problem = None
        if p.get("problem_subject", "").strip():
            problem = svc.Problem(
                kind=p.get("problem_kind") or Inquiry.Kind.INQUIRY,
                subject=p["problem_subject"],
                description=p.get("problem_description", ""),
            )
        try:
            svc.visit_attempt(
                actor=request.user, visit=visit, outcome=p.get("outcome", ""), note=p.get("note", ""),
                answers=answers, problem=problem,
            )  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("回访结果已登记。"))
            if problem is not None:
                messages.info(request, _("发现的问题已转为咨询投诉。"))
        return redirect("offsite:revisit_detail", pk=visit.pk)
    can_assign = visit.state == ReturnVisit.State.OPEN and (
        request.user.has_cap(Cap.OFFSITE_HANDLE) or request.user.has_cap(Cap.SUPERVISE)
    )
    return render(
        request,
        "offsite/revisits/detail.html",
        {
            "v": visit,
            "is_assignee": is_assignee,
            "questions": list(enumerate(visit.rule.questions)),
            "answers": _ordered_answers(visit),
            "attempt_log": list(visit.attempt_log.select_related("by")),
            "inquiries": list(visit.inquiries.all()),
            "can_assign": can_assign,
            "staff": svc.visit_staff(visit.branch_id) if can_assign else [],
            "today": timezone.localdate(),
            "kinds": Inquiry.Kind.choices,
            "see_personal": request.user.has_cap(Cap.PERSONAL_DATA_VIEW),
        },
    )


def _ordered_answers(visit: ReturnVisit) -> list[tuple[str, str]]:
    """The answers in the questionnaire's order (JSON objects keep no order on PostgreSQL)."""
    answers = dict(visit.answers or {})
    ordered = [(q, answers.pop(q)) for q in visit.rule.questions if q in answers]
    return ordered + sorted(answers.items())


@login_required
@require_any_cap(Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
@require_POST
def revisit_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = svc.visit_get_for(viewer=request.user, pk=pk)
    assignee = User.objects.filter(pk=_int(request.POST.get("assignee"))).first()
    try:
        if assignee is None:
            raise DomainError(_("请选择回访人。"), field="assignee")
        svc.visit_assign(actor=request.user, visit=visit, assignee=assignee)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("回访已改派给 %(u)s。") % {"u": assignee})
    return redirect("offsite:revisit_detail", pk=visit.pk)


@login_required
@require_any_cap(Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)
@require_POST
def revisit_sample(request: AuthedRequest) -> HttpResponse:
    """On demand: top up this year's stratified sample of existing clients."""
    if request.user.branch is None:
        raise PermissionDenied
    made = svc.annual_sample(branch=request.user.branch, actor=request.user)
    messages.success(request, _("已生成 %(n)s 个年度抽样回访任务。") % {"n": len(made)})
    return redirect("offsite:revisit_coverage")


@login_required
@require_any_cap(*VIEW_CAPS)
def revisit_coverage(request: AuthedRequest) -> HttpResponse:
    """Per rule: required vs done vs overdue for a year, with a chart."""
    user = request.user
    if user.branch_id is None:
        raise Http404
    today = timezone.localdate()
    year = _int(request.GET.get("year")) or today.year
    if not 2000 <= year <= today.year + 1:
        year = today.year
    rows = svc.coverage(branch_id=user.branch_id, year=year, today=today)
    chart = {
        "rules": [r.rule.name for r in rows],
        "series": [
            {"name": str(_("应回访")), "data": [r.required for r in rows]},
            {"name": str(_("已完成")), "data": [r.done for r in rows]},
            {"name": str(_("三次未联系上")), "data": [r.unreachable for r in rows]},
            {"name": str(_("逾期")), "data": [r.overdue for r in rows]},
        ],
        "links": [f"?rule={r.rule.kind}" for r in rows],
    }
    return render(
        request,
        "offsite/revisits/coverage.html",
        {
            "rows": rows,
            "year": year,
            "years": list(range(today.year, today.year - 4, -1)),
            "chart": chart,
            "can_sample": user.has_cap(Cap.SUPERVISE) or user.has_cap(Cap.COMPLIANCE_REVIEW),
        },
    )


# --- configuration -----------------------------------------------------------------------------------------


class RuleForm(BootstrapFormMixin, forms.ModelForm):
    questions_text = forms.CharField(
        label=gettext_lazy("问卷题目（每行一题）"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = ReturnVisitRule
        fields = ["name", "active", "due_days", "sample_pct", "script"]
        widgets = {"script": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questions_text"].initial = "\n".join(self.instance.questions or [])
        if self.instance.kind != ReturnVisitRule.Kind.ANNUAL_SAMPLE:
            del self.fields["sample_pct"]


class CategoryForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = InquiryCategory
        fields = ["code", "name", "first_response_hours", "resolution_hours", "active"]


class SettingsForm(BootstrapFormMixin, forms.Form):
    complaint_response_days = forms.IntegerField(
        label=gettext_lazy("投诉监管答复期限（自然日）"), min_value=1, max_value=90
    )
    retention_years = forms.IntegerField(label=gettext_lazy("记录保存年限"), min_value=1, max_value=30)
    return_visit_staff = forms.ModelMultipleChoiceField(
        label=gettext_lazy("指定回访人员"), queryset=User.objects.none(), required=False,
        help_text=gettext_lazy("不指定时由本营业部所有客服专员轮流承担。"),
    )  # fmt: skip


def _branch_id(request: AuthedRequest) -> int:
    if request.user.branch_id is None:
        raise Http404
    return request.user.branch_id


@login_required
@require_any_cap(*RULE_CAPS)
def revisit_rules(request: AuthedRequest) -> HttpResponse:
    """The branch's return-visit rules, the inquiry categories with their SLA targets and the settings."""
    branch_id = _branch_id(request)
    rules = svc.rules_for(branch_id)
    conf = settings_for(branch_id)
    can_configure = request.user.has_cap(Cap.ORG_CONFIGURE)
    settings_form = SettingsForm(
        initial={
            "complaint_response_days": conf.complaint_response_days,
            "retention_years": conf.retention_years,
            "return_visit_staff": list(conf.return_visit_staff.all()),
        }
    )
    cast(
        forms.ModelMultipleChoiceField, settings_form.fields["return_visit_staff"]
    ).queryset = User.objects.filter(branch_id=branch_id, is_active=True)
    return render(
        request,
        "offsite/revisits/rules.html",
        {
            "rules": rules,
            "categories": list(InquiryCategory.objects.filter(branch_id=branch_id).order_by("code")),
            "category_form": CategoryForm(),
            "settings_form": settings_form,
            "can_configure": can_configure,
        },
    )


@login_required
@require_any_cap(*RULE_CAPS)
def revisit_rule_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    branch_id = _branch_id(request)
    rule = ReturnVisitRule.objects.filter(pk=pk, branch_id=branch_id).first()
    if rule is None:
        raise Http404
    form = RuleForm(request.POST or None, instance=ReturnVisitRule.objects.get(pk=rule.pk))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "questions_text"}
        data["questions"] = [q.strip() for q in form.cleaned_data["questions_text"].splitlines() if q.strip()]
        try:
            svc.rule_update(actor=request.user, rule=rule, data=data)
        except DomainError as exc:
            add_domain_error(form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("回访规则已保存。"))
            return redirect("offsite:revisit_rules")
    return render(request, "offsite/revisits/rule_edit.html", {"form": form, "rule": rule})


@login_required
@require_any_cap(Cap.ORG_CONFIGURE)
@require_POST
def offsite_settings(request: AuthedRequest) -> HttpResponse:
    """Save the branch settings (regulatory deadline, retention, designated return-visit staff)."""
    from .services_config import settings_update

    branch_id = _branch_id(request)
    form = SettingsForm(request.POST)
    cast(forms.ModelMultipleChoiceField, form.fields["return_visit_staff"]).queryset = User.objects.filter(
        branch_id=branch_id, is_active=True
    )
    if form.is_valid():
        settings_update(actor=request.user, branch_id=branch_id, **form.cleaned_data)
        messages.success(request, _("非现场服务设置已保存。"))
    else:
        messages.error(
            request,
            _("设置有误：%(e)s") % {"e": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
    return redirect("offsite:revisit_rules")


@login_required
@require_any_cap(Cap.ORG_CONFIGURE)
@require_POST
def category_save(request: AuthedRequest) -> HttpResponse:
    """Add a category or update one (``pk`` in the form) with its SLA targets."""
    from .services_config import category_save as save

    branch_id = _branch_id(request)
    instance = None
    if request.POST.get("pk"):
        instance = InquiryCategory.objects.filter(
            pk=_int(request.POST["pk"]) or 0, branch_id=branch_id
        ).first()
        if instance is None:
            raise Http404
    form = CategoryForm(request.POST, instance=instance)
    if form.is_valid():
        try:
            save(actor=request.user, branch_id=branch_id, instance=instance, data=form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("类别已保存。"))
    else:
        messages.error(
            request,
            _("类别有误：%(e)s") % {"e": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
    return redirect("offsite:revisit_rules")
