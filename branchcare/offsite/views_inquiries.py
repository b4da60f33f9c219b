"""Inquiry and complaint pages: the list (with filters), a new inquiry, the detail with its actions,
transitions and the satisfaction survey."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branchcare.core import workflow as wf
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.typing import AuthedRequest

from . import services_inquiries as svc
from .models import Inquiry
from .workflows import INQUIRY

PAGE_SIZE = 50


def require_any_cap(*caps: str) -> Callable:
    """Allow the view to users holding at least one of ``caps`` (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated or not any(request.user.has_cap(c) for c in caps):
                from branchcare.core.security import record_denial

                record_denial(request, reason="|".join(caps))
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_capabilities = caps  # type: ignore[attr-defined]
        return wrapper

    return decorator


VIEW_CAPS = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW, Cap.ONSITE_SERVE)
REGISTER_CAPS = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)


class InquiryForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=Inquiry.Kind.choices)
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), choices=Inquiry.Channel.choices)
    client_lookup = forms.CharField(
        label=gettext_lazy("客户号或手机号"), required=False, max_length=30,
        help_text=gettext_lazy("按客户号或手机号匹配本营业部客户；匹配不到时按来电人登记。"),
    )  # fmt: skip
    caller_name = forms.CharField(label=gettext_lazy("来电人姓名"), required=False, max_length=50)
    caller_phone = forms.CharField(label=gettext_lazy("来电人电话"), required=False, max_length=20)
    category = forms.TypedChoiceField(
        label=gettext_lazy("类别"), coerce=int, required=False, empty_value=None
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("优先级"), choices=Inquiry.Priority.choices, initial=Inquiry.Priority.NORMAL
    )
    subject = forms.CharField(label=gettext_lazy("主题"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("详细描述"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    assignee = forms.TypedChoiceField(
        label=gettext_lazy("经办人"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "—")] + [
            (c.pk, c.name) for c in svc.categories_for(branch_id)
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [("", _("暂不分派"))] + [
            (u.pk, str(u)) for u in svc.staff_with_cap(branch_id, Cap.OFFSITE_HANDLE)
        ]

    def to_input(self) -> svc.InquiryInput:
        d = self.cleaned_data
        return svc.InquiryInput(
            kind=d["kind"], channel=d["channel"], subject=d["subject"], description=d["description"],
            category_id=d["category"], priority=d["priority"], client_lookup=d["client_lookup"],
            caller_name=d["caller_name"], caller_phone=d["caller_phone"], assignee_id=d["assignee"],
        )  # fmt: skip


@login_required
@require_any_cap(*VIEW_CAPS)
def inquiry_list(request: AuthedRequest) -> HttpResponse:
    """Agents and the director: the branch's inquiries; compliance: complaints; managers: assigned to them."""
    user = request.user
    filters = svc.InquiryFilters.from_params(request.GET)
    now = timezone.now()
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = list(
        svc.inquiry_list(viewer=user, filters=filters, now=now)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    has_next = len(rows) > PAGE_SIZE
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "offsite/inquiries/list.html",
        {
            "rows": [(i, svc.inquiry_sla(i, now)) for i in rows[:PAGE_SIZE]],
            "filters": filters,
            "kinds": Inquiry.Kind.choices,
            "states": Inquiry.State.choices,
            "counts": svc.inquiry_counts(viewer=user, now=now),
            "can_create": svc.can_register(user),
            "page": page,
            "has_next": has_next,
            "has_prev": page > 1,
            "query": query.urlencode(),
        },
    )


@login_required
@require_any_cap(*REGISTER_CAPS)
def inquiry_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.branch_id is None:
        raise PermissionDenied
    initial = {
        "kind": request.GET.get("kind") or Inquiry.Kind.INQUIRY,
        "client_lookup": request.GET.get("client", ""),
    }
    form = InquiryForm(request.POST or None, branch_id=user.branch_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            obj = svc.inquiry_create(actor=user, data=form.to_input())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("%(k)s #%(pk)s 已登记。") % {"k": obj.get_kind_display(), "pk": obj.pk}
            )
            return redirect("offsite:inquiry_detail", pk=obj.pk)
    return render(request, "offsite/inquiries/new.html", {"form": form})


@login_required
@require_any_cap(*VIEW_CAPS)
def inquiry_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    obj = svc.inquiry_get_for(viewer=request.user, pk=pk)
    now = timezone.now()
    actions = svc.inquiry_actions(obj, request.user)
    labels = {t.name: str(t.label) for t in INQUIRY.transitions}
    return render(
        request,
        "offsite/inquiries/detail.html",
        {
            "i": obj,
            "sla": svc.inquiry_sla(obj, now),
            "actions": [(n, labels[n]) for n in actions if n in labels and n != "assign"],
            "can_assign": "assign" in actions,
            "can_survey": "survey" in actions,
            "staff": svc.assignable_staff(obj) if "assign" in actions else [],
            "history": [
                (
                    h,
                    labels.get(h.transition, h.transition),
                    INQUIRY.label(h.from_state),
                    INQUIRY.label(h.to_state),
                )
                for h in wf.history(obj)
            ],
            "see_personal": request.user.has_cap(Cap.PERSONAL_DATA_VIEW),
        },
    )


@login_required
@require_any_cap(*VIEW_CAPS)
@require_POST
def inquiry_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    obj = svc.inquiry_get_for(viewer=request.user, pk=pk)
    name = request.POST.get("name", "")
    note = request.POST.get("note", "")
    try:
        if name == "assign":
            assignee = User.objects.filter(pk=_int(request.POST.get("assignee"))).first()
            if assignee is None:
                raise DomainError(_("请选择经办人。"), field="assignee")
            svc.inquiry_assign(actor=request.user, inquiry=obj, assignee=assignee)
        else:
            svc.inquiry_transition(
                actor=request.user, inquiry=obj, name=name, note=note,
                client_confirmed=request.POST.get("client_confirmed") == "1",
            )  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("操作成功。"))
    return redirect("offsite:inquiry_detail", pk=obj.pk)


@login_required
@require_any_cap(*REGISTER_CAPS)
@require_POST
def inquiry_survey(request: AuthedRequest, pk: int) -> HttpResponse:
    obj = svc.inquiry_get_for(viewer=request.user, pk=pk)
    try:
        svc.inquiry_survey(
            actor=request.user, inquiry=obj, score=_int(request.POST.get("score")) or 0,
            comment=request.POST.get("comment", ""),
        )  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("满意度调查已登记。"))
    return redirect("offsite:inquiry_detail", pk=obj.pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
