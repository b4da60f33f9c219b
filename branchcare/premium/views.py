"""高端服务 pages: the 24×7 desk (queue, new request, the request page with its thread and actions), the
research-question queue, and enrolments with the branch's rate table and desk settings."""

from __future__ import annotations

from functools import wraps
from typing import Any

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

from branchcare.clients.selectors import client_base_qs
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, User
from branchcare.org.typing import AuthedRequest

from . import desk_sla
from . import selectors as sel
from . import services as svc
from .models import TIER_RANK, DeskSettings, Enrolment, PremiumRequest, ServiceTier
from .workflows import OPEN_STATES, PREMIUM_REQUEST

PAGE_SIZE = 50


def _require(check, reason: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated or not check(request.user):
                from branchcare.core.security import record_denial

                record_denial(request, reason=reason)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


require_desk = _require(sel.can_use_desk, "premium")
require_questions = _require(sel.can_use_questions, "premium.questions")


def _page(request: AuthedRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def _domain_redirect(request: AuthedRequest, exc: DomainError, to: str, **kwargs: Any) -> HttpResponse:
    if exc.code == "forbidden":
        raise PermissionDenied from exc
    messages.error(request, exc.message)
    return redirect(to, **kwargs)


def sla_pair(req: PremiumRequest, now) -> tuple[desk_sla.SlaStatus, desk_sla.SlaStatus]:
    """(first response, resolution) status of a request at ``now``."""
    return (
        desk_sla.target_status(
            now=now, start=req.received_at, due=req.first_response_due, done_at=req.responded_at
        ),
        desk_sla.target_status(
            now=now, start=req.received_at, due=req.resolution_due, done_at=req.resolved_at
        ),
    )


# --- the desk ----------------------------------------------------------------------------------------------


@login_required
@require_desk
def desk(request: AuthedRequest) -> HttpResponse:
    """The queue: a broker's own (and escalated backup) requests, the director's branch; open first by deadline."""
    params = request.GET.copy()
    if not params:
        params["open"] = "1"
    filters = sel.RequestFilters.from_params(params)
    page = _page(request)
    rows = list(
        sel.request_list(viewer=request.user, filters=filters)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    now = timezone.now()
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "premium/desk.html",
        {
            "rows": [(r, *sla_pair(r, now)) for r in rows[:PAGE_SIZE]],
            "filters": filters,
            "states": PremiumRequest.State.choices,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "query": query.urlencode(),
            "is_director": request.user.has_cap(Cap.SUPERVISE),
        },
    )


def _enrolment_label(e: Enrolment) -> str:
    return f"{e.client.client_no} {e.client.name}（{e.get_tier_display()}）"


class RequestForm(BootstrapFormMixin, forms.Form):
    enrolment = forms.ModelChoiceField(label=gettext_lazy("高端客户"), queryset=Enrolment.objects.none())
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), choices=PremiumRequest.Channel.choices)
    subject = forms.CharField(label=gettext_lazy("主题"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("客户诉求"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    received_at = forms.DateTimeField(
        label=gettext_lazy("受理时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("不填为现在；SLA 从此刻起按 7×24 小时计时。"),
    )

    def __init__(self, *args, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = (
            sel.enrolment_base_qs(viewer=viewer).filter(state=Enrolment.State.ACTIVE).select_related("client")
        )
        self.fields["enrolment"].queryset = qs.order_by("client__client_no")  # type: ignore[attr-defined]
        self.fields["enrolment"].label_from_instance = _enrolment_label  # type: ignore[attr-defined]


@login_required
@require_desk
def request_new(request: AuthedRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    client_id = request.GET.get("client", "")
    if client_id.isdigit():
        e = (
            sel.enrolment_base_qs(viewer=request.user)
            .filter(state=Enrolment.State.ACTIVE, client_id=int(client_id))
            .first()
        )
        if e is not None:
            initial["enrolment"] = e.pk
    form = RequestForm(request.POST or None, viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            req = svc.request_create(
                actor=request.user,
                client=d["enrolment"].client,
                channel=d["channel"],
                subject=d["subject"],
                body=d["body"],
                received_at=d.get("received_at"),
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, _("请求已登记，进入专属经纪人的队列。"))
            return redirect("premium:request_detail", pk=req.pk)
    return render(request, "premium/request_new.html", {"form": form})


@login_required
@require_desk
def request_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    req = sel.request_get_for(viewer=request.user, pk=pk)
    now = timezone.now()
    labels = {t.name: str(t.label) for t in PREMIUM_REQUEST.transitions}
    actions = svc.request_actions(req, request.user)
    can_act = svc.can_act_as_broker(req, request.user)
    first, resolution = sla_pair(req, now)
    questions = list(
        req.questions.select_related("asked_by", "researcher", "answered_by").order_by("asked_at", "id")
    )
    return render(
        request,
        "premium/request_detail.html",
        {
            "r": req,
            "sla_first": first,
            "sla_resolution": resolution,
            "thread": sel.request_thread(req),
            "questions": questions,
            "actions": [(n, labels[n]) for n in actions],
            "can_act": can_act and req.state != PremiumRequest.State.CLOSED,
            "can_ask": can_act
            and req.state
            in (PremiumRequest.State.NEW, PremiumRequest.State.IN_PROGRESS, PremiumRequest.State.ANSWERED),
            "researchers": svc.researchers_of(req.branch_id) if can_act else [],
            "can_see_client": client_base_qs(viewer=request.user).filter(pk=req.client_id).exists(),
        },
    )


@login_required
@require_desk
@require_POST
def request_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    req = sel.request_get_for(viewer=request.user, pk=pk)
    name = request.POST.get("name", "")
    try:
        svc.request_transition(actor=request.user, req=req, name=name, data=request.POST.dict())
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:request_detail", pk=req.pk)
    t = PREMIUM_REQUEST._by_name.get(name)
    messages.success(request, _("已完成：%(a)s") % {"a": t.label if t else name})
    return redirect("premium:request_detail", pk=req.pk)


@login_required
@require_desk
@require_POST
def request_message(request: AuthedRequest, pk: int) -> HttpResponse:
    req = sel.request_get_for(viewer=request.user, pk=pk)
    try:
        svc.request_message_add(
            actor=request.user,
            req=req,
            text=request.POST.get("text", ""),
            to_client=request.POST.get("to_client") == "1",
        )
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:request_detail", pk=req.pk)
    messages.success(request, _("已记录。"))
    return redirect("premium:request_detail", pk=req.pk)


@login_required
@require_desk
@require_POST
def request_ask(request: AuthedRequest, pk: int) -> HttpResponse:
    req = sel.request_get_for(viewer=request.user, pk=pk)
    researcher = None
    rid = request.POST.get("researcher", "")
    if rid:
        researcher = User.objects.filter(pk=int(rid) if rid.isdigit() else 0).first()
        if researcher is None:
            messages.error(request, _("所选人员不是本营业部在岗的研究员。"))
            return redirect("premium:request_detail", pk=req.pk)
    try:
        svc.question_ask(
            actor=request.user, req=req, question=request.POST.get("question", ""), researcher=researcher
        )
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:request_detail", pk=req.pk)
    messages.success(request, _("问题已提交研究员。"))
    return redirect("premium:request_detail", pk=req.pk)


@login_required
@require_desk
@require_POST
def question_relay(request: AuthedRequest, pk: int) -> HttpResponse:
    q = sel.question_get_for(viewer=request.user, pk=pk)
    sel.request_get_for(viewer=request.user, pk=q.request_id)  # the desk's scope, not the researchers'
    try:
        svc.question_relay(actor=request.user, question=q, text=request.POST.get("text", ""))
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:request_detail", pk=q.request_id)
    messages.success(request, _("已将研究员的答复转达客户。"))
    return redirect("premium:request_detail", pk=q.request_id)


# --- research questions ------------------------------------------------------------------------------------


@login_required
@require_questions
def questions(request: AuthedRequest) -> HttpResponse:
    """Researchers: the branch's questions, open first (answer inline). Brokers: the questions they asked."""
    pending = request.GET.get("pending", "1" if request.user.has_cap(Cap.RESEARCH_WRITE) else "") == "1"
    page = _page(request)
    rows = list(
        sel.question_list(viewer=request.user, pending=pending)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    return render(
        request,
        "premium/questions.html",
        {
            "rows": rows[:PAGE_SIZE],
            "pending": pending,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "is_researcher": request.user.has_cap(Cap.RESEARCH_WRITE),
        },
    )


@login_required
@require_cap(Cap.RESEARCH_WRITE)
@require_POST
def question_answer(request: AuthedRequest, pk: int) -> HttpResponse:
    q = sel.question_get_for(viewer=request.user, pk=pk)
    try:
        svc.question_answer(actor=request.user, question=q, answer=request.POST.get("answer", ""))
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:questions")
    messages.success(request, _("已答复，经纪人将转达客户。"))
    return redirect("premium:questions")


# --- enrolments, rates, desk settings ----------------------------------------------------------------------


def _branch_for(user: User) -> Branch:
    if user.branch_id is None:
        raise Http404
    return user.branch  # type: ignore[return-value]


@login_required
@require_desk
def enrolments(request: AuthedRequest) -> HttpResponse:
    """Enrolments in scope, and the branch's premium rate table and desk targets (editable by the director)."""
    state = request.GET.get("state", Enrolment.State.ACTIVE)
    page = _page(request)
    rows = list(
        sel.enrolment_list(viewer=request.user, state=state)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    branch = _branch_for(request.user)
    today = timezone.localdate()
    is_director = request.user.has_cap(Cap.SUPERVISE)
    return render(
        request,
        "premium/enrolments.html",
        {
            "rows": rows[:PAGE_SIZE],
            "state": state,
            "states": Enrolment.State.choices,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "rates": sel.rate_table(branch_id=branch.pk, today=today),
            "desk_settings": svc.desk_settings_for(branch.pk),
            "is_director": is_director,
            "rate_form": RateForm(initial={"effective_from": today}) if is_director else None,
            "settings_form": DeskSettingsForm(instance=svc.desk_settings_for(branch.pk))
            if is_director
            else None,
            "branch": branch,
        },
    )


class EnrolForm(BootstrapFormMixin, forms.Form):
    client_no = forms.CharField(label=gettext_lazy("客户号"), max_length=20)
    tier = forms.ChoiceField(
        label=gettext_lazy("服务等级"), choices=ServiceTier.choices, initial=ServiceTier.GOLD
    )
    broker = forms.ModelChoiceField(label=gettext_lazy("专属经纪人"), queryset=User.objects.none())
    backup_broker = forms.ModelChoiceField(
        label=gettext_lazy("备岗经纪人"), queryset=User.objects.none(), required=False
    )
    agreement_no = forms.CharField(label=gettext_lazy("协议编号"), max_length=40)
    signed_on = forms.DateField(
        label=gettext_lazy("签署日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    effective_on = forms.DateField(
        label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, branch_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [u.pk for u in svc.brokers_of(branch_id)]
        for name in ("broker", "backup_broker"):
            self.fields[name].queryset = User.objects.filter(pk__in=ids).order_by("pk")  # type: ignore[attr-defined]


@login_required
@require_cap(Cap.SUPERVISE)
def enrol(request: AuthedRequest) -> HttpResponse:
    branch = _branch_for(request.user)
    today = timezone.localdate()
    initial: dict[str, Any] = {"signed_on": today, "effective_on": today}
    if request.GET.get("client", "").isdigit():
        c = client_base_qs(viewer=request.user).filter(pk=request.GET["client"]).first()
        if c is not None:
            initial["client_no"] = c.client_no
    form = EnrolForm(request.POST or None, branch_id=branch.pk, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        client = (
            client_base_qs(viewer=request.user)
            .filter(client_no=d["client_no"].strip(), branch_id=branch.pk)
            .first()
        )
        if client is None:
            form.add_error("client_no", _("本营业部没有客户号为 %(n)s 的客户。") % {"n": d["client_no"]})
        else:
            try:
                e = svc.enrol(
                    actor=request.user,
                    client=client,
                    broker=d["broker"],
                    backup_broker=d.get("backup_broker"),
                    tier=d["tier"],
                    agreement_no=d["agreement_no"],
                    signed_on=d["signed_on"],
                    effective_on=d["effective_on"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(c)s 已签约高端服务，佣金率调整为 %(r)s‰。")
                    % {"c": client.name, "r": e.commission_rate},
                )
                return redirect("premium:enrolment_detail", pk=e.pk)
    return render(request, "premium/enrol.html", {"form": form})


class DowngradeForm(BootstrapFormMixin, forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("降至服务等级"), choices=ServiceTier.choices)
    effective_on = forms.DateField(
        label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    agreement_no = forms.CharField(label=gettext_lazy("新协议编号（可不填）"), max_length=40, required=False)
    reason = forms.CharField(label=gettext_lazy("降级原因"), max_length=500)


class ExitForm(BootstrapFormMixin, forms.Form):
    ended_on = forms.DateField(
        label=gettext_lazy("退出日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label=gettext_lazy("退出原因"), max_length=500)


@login_required
@require_desk
def enrolment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One enrolment with the client's whole history; the director downgrades or ends it here."""
    e = sel.enrolment_get_for(viewer=request.user, pk=pk)
    is_director = request.user.has_cap(Cap.SUPERVISE) and request.user.branch_id == e.branch_id
    active = e.state == Enrolment.State.ACTIVE
    today = timezone.localdate()
    downgrade_form = exit_form = None
    if is_director and active:
        downgrade_form = DowngradeForm(
            request.POST if request.POST.get("action") == "downgrade" else None,
            initial={"effective_on": today},
            prefix="d",
        )
        downgrade_form.fields["tier"].choices = [  # type: ignore[attr-defined]
            (v, label)
            for v, label in ServiceTier.choices
            if TIER_RANK[ServiceTier(v)] < TIER_RANK[ServiceTier(e.tier)]
        ]
        exit_form = ExitForm(
            request.POST if request.POST.get("action") == "exit" else None,
            initial={"ended_on": today},
            prefix="x",
        )
        if request.method == "POST":
            try:
                if request.POST.get("action") == "downgrade" and downgrade_form.is_valid():
                    d = downgrade_form.cleaned_data
                    new = svc.enrolment_downgrade(
                        actor=request.user, enrolment=e, tier=d["tier"], effective_on=d["effective_on"],
                        reason=d["reason"], agreement_no=d["agreement_no"],
                    )  # fmt: skip
                    messages.success(request, _("已降级，佣金率调整为 %(r)s‰。") % {"r": new.commission_rate})
                    return redirect("premium:enrolment_detail", pk=new.pk)
                if request.POST.get("action") == "exit" and exit_form.is_valid():
                    d = exit_form.cleaned_data
                    svc.enrolment_exit(
                        actor=request.user, enrolment=e, ended_on=d["ended_on"], reason=d["reason"]
                    )
                    messages.success(request, _("已办理退出，客户恢复签约前的佣金率。"))
                    return redirect("premium:enrolment_detail", pk=e.pk)
            except DomainError as exc:
                add_domain_error(
                    downgrade_form if request.POST.get("action") == "downgrade" else exit_form, exc
                )
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "premium/enrolment_detail.html",
        {
            "e": e,
            "history": sel.client_enrolments(client_id=e.client_id),
            "downgrade_form": downgrade_form,
            "exit_form": exit_form,
            "can_see_client": client_base_qs(viewer=request.user).filter(pk=e.client_id).exists(),
            "open_requests": PremiumRequest.objects.filter(
                enrolment__client_id=e.client_id, state__in=list(OPEN_STATES)
            ).count(),
        },
    )


class RateForm(BootstrapFormMixin, forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("服务等级"), choices=ServiceTier.choices)
    commission_rate = forms.DecimalField(
        label=gettext_lazy("佣金率（‰）"), max_digits=6, decimal_places=4, min_value=0
    )
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


class DeskSettingsForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = DeskSettings
        fields = ["first_response_minutes", "resolution_hours", "director_after_minutes"]


@login_required
@require_cap(Cap.SUPERVISE)
@require_POST
def rate_add(request: AuthedRequest) -> HttpResponse:
    form = RateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("premium:enrolments")
    d = form.cleaned_data
    try:
        row = svc.rate_add(
            actor=request.user, branch=_branch_for(request.user), tier=d["tier"],
            commission_rate=d["commission_rate"], effective_from=d["effective_from"], note=d["note"],
        )  # fmt: skip
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:enrolments")
    messages.success(request, _("已新增费率版本：%(r)s") % {"r": row})
    return redirect("premium:enrolments")


@login_required
@require_cap(Cap.SUPERVISE)
@require_POST
def desk_settings(request: AuthedRequest) -> HttpResponse:
    branch = _branch_for(request.user)
    form = DeskSettingsForm(request.POST, instance=svc.desk_settings_for(branch.pk))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("premium:enrolments")
    d = form.cleaned_data
    try:
        svc.desk_settings_update(actor=request.user, branch=branch, **d)
    except DomainError as exc:
        return _domain_redirect(request, exc, "premium:enrolments")
    messages.success(request, _("服务台时限已更新，对此后登记的请求生效。"))
    return redirect("premium:enrolments")
