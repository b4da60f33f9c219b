"""今日计划, 拜访记录, 巡视记录 and 跟进事项 pages (included in the ``onsite`` namespace).

Each view parses input, checks the capability (403), fetches through ``selectors_visits`` (404 outside
scope) and calls one service. A customer manager sees their own plan; a director sees the branch's plans
per manager and the swaps.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branchcare.clients.models import Client, Security
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import is_trading_day
from branchcare.org.capabilities import Cap
from branchcare.org.models import Room, User
from branchcare.org.typing import AuthedRequest

from . import selectors_visits as sel
from .models import FollowUp, PatrolPlanItem, Visit, VisitPlan, VisitPlanItem
from .services_consultations import can_view_orders, order_base_qs
from .services_plans import plan_generate, plan_generate_for_manager, plan_swap
from .services_visits import followup_complete, patrol_record, visit_record

PAGE_SIZE = 30
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PROBLEM_ROWS = 3


def _require_use(request: AuthedRequest) -> None:
    if not sel.can_use(request.user):
        raise PermissionDenied


def _choices(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A model-choice field of ``form`` (typed, to set its queryset)."""
    return cast(forms.ModelChoiceField, form.fields[name])


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _page(request: AuthedRequest, qs) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- forms ---------------------------------------------------------------------------------------------


class VisitForm(BootstrapFormMixin, forms.Form):
    client_no = forms.CharField(label=gettext_lazy("客户号"), max_length=20)
    at = forms.DateTimeField(label=gettext_lazy("拜访时间"), widget=DATETIME)
    place = forms.ChoiceField(label=gettext_lazy("地点"), choices=Visit.Place.choices)
    room = forms.ModelChoiceField(label=gettext_lazy("房间"), queryset=Room.objects.none(), required=False)
    topic = forms.CharField(label=gettext_lazy("拜访主题"), max_length=200)
    concerns = forms.CharField(
        label=gettext_lazy("客户关注与需求"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    holdings_confirmed = forms.BooleanField(label=gettext_lazy("已与客户核对持仓"), required=False)
    holdings = forms.CharField(
        label=gettext_lazy("更新持仓"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "600000 1000 10.50"}),
        help_text=gettext_lazy(
            "每行一只证券：证券代码 数量 成本价；留空则不修改持仓。填写后将整体替换客户持仓。"
        ),
    )
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("满意度"),
        choices=[("", "—")] + [(i, str(i)) for i in range(5, 0, -1)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    follow_up = forms.CharField(
        label=gettext_lazy("后续跟进"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_due = forms.DateField(
        label=gettext_lazy("跟进期限"),
        required=False,
        widget=DATE,
        help_text=gettext_lazy("填写期限则生成一条跟进事项（负责人为本人）。"),
    )
    raise_consultation = forms.BooleanField(label=gettext_lazy("同时发起咨询单"), required=False)
    consultation_question = forms.CharField(
        label=gettext_lazy("客户的问题"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "勾选“同时发起咨询单”时必填：将以客户当前持仓生成咨询单草稿，并关联本次拜访。"
        ),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("raise_consultation"):
            if not (data.get("consultation_question") or "").strip():
                self.add_error("consultation_question", _("发起咨询单时请填写客户的问题或需求。"))
        else:
            data["consultation_question"] = ""
        return data

    def clean_holdings(self) -> list[tuple[Security, int, Decimal]] | None:
        text = self.cleaned_data.get("holdings", "").strip()
        if not text:
            return None
        positions = []
        for no, line in enumerate(text.splitlines(), start=1):
            parts = line.replace("，", " ").replace(",", " ").split()
            if not parts:
                continue
            if len(parts) != 3:
                raise forms.ValidationError(_("第 %(n)d 行应为：证券代码 数量 成本价。") % {"n": no})
            code, qty, cost = parts
            code = re.sub(r"\.(SH|SZ|BJ)$", "", code.upper())
            security = Security.objects.filter(code=code).first()
            if security is None:
                raise forms.ValidationError(_("第 %(n)d 行：找不到证券 %(c)s。") % {"n": no, "c": code})
            try:
                quantity, price = int(qty), Decimal(cost)
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    _("第 %(n)d 行：数量须为整数，成本价须为数字。") % {"n": no}
                ) from None
            if price < 0:
                raise forms.ValidationError(_("第 %(n)d 行：成本价不能为负数。") % {"n": no})
            positions.append((security, quantity, price))
        return positions


class PatrolForm(BootstrapFormMixin, forms.Form):
    room = forms.ModelChoiceField(label=gettext_lazy("房间"), queryset=Room.objects.none())
    at = forms.DateTimeField(label=gettext_lazy("巡视时间"), widget=DATETIME)
    observations = forms.CharField(
        label=gettext_lazy("巡视情况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    clients_present = forms.ModelMultipleChoiceField(
        label=gettext_lazy("在场客户"),
        queryset=Client.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ProblemForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("问题类别"),
        choices=[
            (FollowUp.Kind.EQUIPMENT, FollowUp.Kind.EQUIPMENT.label),
            (FollowUp.Kind.COMPLAINT, FollowUp.Kind.COMPLAINT.label),
            (FollowUp.Kind.RISK, FollowUp.Kind.RISK.label),
            (FollowUp.Kind.OTHER, FollowUp.Kind.OTHER.label),
        ],
    )
    description = forms.CharField(label=gettext_lazy("问题描述"), required=False, max_length=500)
    owner = forms.ModelChoiceField(label=gettext_lazy("负责人"), queryset=User.objects.none(), required=False)
    due_on = forms.DateField(label=gettext_lazy("完成期限"), required=False, widget=DATE)


# --- 今日计划 ------------------------------------------------------------------------------------------


def _calendar_note(today: dt.date) -> str:
    try:
        return "" if is_trading_day(today) else _("今天不是交易日，不生成拜访计划。")
    except CalendarRangeError as exc:
        return str(exc)


def _own_plan_context(user: User, today: dt.date) -> dict[str, Any]:
    plan = (
        VisitPlan.objects.filter(manager=user, date=today)
        .prefetch_related(
            Prefetch(
                "items", queryset=VisitPlanItem.objects.select_related("client", "visit").order_by("rank")
            ),
            Prefetch(
                "patrol_items",
                queryset=PatrolPlanItem.objects.select_related("room", "patrol").order_by("round_no"),
            ),
        )
        .first()
    )
    followups = list(
        FollowUp.objects.filter(
            owner=user, state=FollowUp.State.OPEN, due_on__lte=today + dt.timedelta(days=3)
        )
        .select_related("client")
        .order_by("due_on", "pk")[:20]
    )
    ctx: dict[str, Any] = {"plan": plan, "followups": followups}
    if plan is not None:
        items = list(plan.items.all())
        patrol_items = list(plan.patrol_items.all())
        ctx.update(
            items=items,
            patrol_items=patrol_items,
            visits_done=sum(1 for i in items if i.status == VisitPlanItem.Status.DONE),
            patrols_done=sum(1 for p in patrol_items if p.status == PatrolPlanItem.Status.DONE),
        )
    ctx["unplanned_today"] = Visit.objects.filter(
        manager=user,
        at__gte=_day_start(today),
        at__lt=_day_start(today + dt.timedelta(days=1)),
        plan_item=None,
    ).count()
    return ctx


def _branch_context(request: AuthedRequest, today: dt.date) -> dict[str, Any]:
    manager_id = _int(request.GET.get("manager"))
    plans = list(
        sel.plans_for_day(viewer=request.user, date=today, manager_id=manager_id).annotate(
            planned=Count("items", filter=~Q(items__status=VisitPlanItem.Status.SWAPPED), distinct=True),
            visits_done=Count("items", filter=Q(items__status=VisitPlanItem.Status.DONE), distinct=True),
            swaps=Count("items", filter=Q(items__status=VisitPlanItem.Status.SWAPPED), distinct=True),
            patrols_planned=Count("patrol_items", distinct=True),
            patrols_done=Count(
                "patrol_items", filter=Q(patrol_items__status=PatrolPlanItem.Status.DONE), distinct=True
            ),
        )
    )
    swaps = list(
        VisitPlanItem.objects.filter(plan__in=[p.pk for p in plans], status=VisitPlanItem.Status.SWAPPED)
        .select_related("plan__manager", "client", "replaced_by__client")
        .order_by("plan__manager__username", "rank")
    )
    return {
        "branch_plans": plans,
        "swaps": swaps,
        "managers": list(sel.managers_visible(viewer=request.user).order_by("username")),
        "manager_filter": manager_id,
    }


@login_required
def today_view(request: AuthedRequest) -> HttpResponse:
    """The manager's plan of today with progress; for a director, the branch's plans per manager."""
    _require_use(request)
    today = timezone.localdate()
    user = request.user
    ctx: dict[str, Any] = {"today": today, "calendar_note": _calendar_note(today)}
    ctx["is_manager"] = user.has_cap(Cap.ONSITE_SERVE)
    ctx["is_supervisor"] = sel.is_supervisor(user)
    if ctx["is_manager"]:
        ctx.update(_own_plan_context(user, today))
    if ctx["is_supervisor"]:
        ctx.update(_branch_context(request, today))
    return render(request, "onsite/visits/today.html", ctx)


@login_required
@require_POST
def plan_generate_view(request: AuthedRequest) -> HttpResponse:
    """生成今日计划: a manager's own plan, a director's whole branch (idempotent)."""
    _require_use(request)
    user = request.user
    today = timezone.localdate()
    try:
        if sel.is_supervisor(user) and user.branch is not None:
            made = plan_generate(branch=user.branch, date=today, actor=user)
            messages.success(
                request, _("已生成 %(n)d 份今日计划（已有计划的客户经理不重复生成）。") % {"n": len(made)}
            )
        elif user.has_cap(Cap.ONSITE_SERVE):
            plan = plan_generate_for_manager(manager=user, date=today, actor=user)
            if plan is not None:
                messages.success(
                    request,
                    _("今日计划已生成：拜访 %(v)d 位客户，巡视 %(p)d 次。")
                    % {"v": plan.items.count(), "p": plan.patrols_quota},
                )
        else:
            raise PermissionDenied
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("onsite:today")


@login_required
@require_cap(Cap.ONSITE_SERVE)
@require_POST
def plan_swap_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Swap one client of the manager's own plan for another of their book, with a reason."""
    item = VisitPlanItem.objects.filter(pk=pk, plan__manager=request.user).select_related("plan").first()
    if item is None:
        raise Http404
    client_no = (request.POST.get("client_no") or "").strip()
    new_client = (
        Client.objects.filter(
            branch_id=item.plan.branch_id, manager=request.user, client_no=client_no
        ).first()
        if client_no
        else None
    )
    try:
        if new_client is None:
            raise DomainError(_("请填写本人名下客户的客户号。"), field="new_client")
        plan_swap(actor=request.user, item=item, new_client=new_client, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已将 %(a)s 调换为 %(b)s。") % {"a": item.client, "b": new_client})
    return redirect("onsite:today")


# --- visits --------------------------------------------------------------------------------------------


@login_required
def visit_list_view(request: AuthedRequest) -> HttpResponse:
    _require_use(request)
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    planned = {"1": True, "0": False}.get(request.GET.get("planned", ""))
    qs = sel.visit_list(
        viewer=request.user,
        manager_id=_int(request.GET.get("manager")),
        start=_day_start(start) if start else None,
        end=_day_start(end + dt.timedelta(days=1)) if end else None,
        planned=planned,
    )
    return render(
        request,
        "onsite/visits/visit_list.html",
        {
            "page": _page(request, qs),
            "managers": list(sel.managers_visible(viewer=request.user).order_by("username")),
            "f": {
                "manager": _int(request.GET.get("manager")),
                "start": start,
                "end": end,
                "planned": planned,
            },
            "can_record": request.user.has_cap(Cap.ONSITE_SERVE) or sel.is_supervisor(request.user),
        },
    )


def _visit_initial(request: AuthedRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"at": timezone.localtime().replace(second=0, microsecond=0)}
    client: Client | None = None
    item_pk = _int(request.GET.get("item"))
    if item_pk:
        item = (
            VisitPlanItem.objects.filter(pk=item_pk, plan__in=sel.plans_visible(viewer=request.user))
            .select_related("client")
            .first()
        )
        client = item.client if item else None
    elif request.GET.get("client"):
        client = sel.serveable_client_get(viewer=request.user, pk=request.GET.get("client"))
    if client is not None:
        initial["client_no"] = client.client_no
        if client.seat_id:
            initial["place"] = Visit.Place.ROOM
    return initial


@login_required
def visit_new_view(request: AuthedRequest) -> HttpResponse:
    _require_use(request)
    form = VisitForm(
        request.POST or None, initial=_visit_initial(request) if request.method == "GET" else None
    )
    _choices(form, "room").queryset = sel.rooms_visible(viewer=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        client = (
            sel.serveable_clients(viewer=request.user).filter(client_no=data.pop("client_no").strip()).first()
        )
        holdings = data.pop("holdings")
        data.pop("raise_consultation", None)
        due = data.pop("follow_up_due")
        if due and data.get("follow_up"):
            data["followups"] = [
                {"kind": FollowUp.Kind.CLIENT_NEED, "description": data["follow_up"], "due_on": due}
            ]
        try:
            if client is None:
                raise DomainError(_("找不到该客户，或该客户不在您的服务范围内。"), field="client_no")
            visit = visit_record(actor=request.user, client=client, data=data, holdings=holdings)
        except DomainError as exc:
            if exc.field == "client":
                exc.field = "client_no"
            add_domain_error(form, exc)
        else:
            kind = _("计划内") if visit.plan_item_id else _("计划外")
            messages.success(request, _("已记录对 %(c)s 的拜访（%(k)s）。") % {"c": client, "k": kind})
            order = visit.orders.first()
            if order is not None:
                messages.success(request, _("已同时生成咨询单草稿，请核对持仓后提交投顾。"))
                return redirect("onsite:consultation_detail", pk=order.pk)
            return redirect("onsite:today" if request.user.has_cap(Cap.ONSITE_SERVE) else "onsite:visits")
    return render(request, "onsite/visits/visit_form.html", {"form": form})


@login_required
def visit_detail_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_use(request)
    visit = sel.visit_get(viewer=request.user, pk=pk)
    followups = list(visit.follow_ups.select_related("owner").order_by("due_on"))
    orders = (
        list(order_base_qs(viewer=request.user).filter(visit=visit).order_by("pk"))
        if can_view_orders(request.user)
        else []
    )
    return render(
        request,
        "onsite/visits/visit_detail.html",
        {"visit": visit, "followups": followups, "orders": orders},
    )


# --- patrols -------------------------------------------------------------------------------------------


@login_required
def patrol_list_view(request: AuthedRequest) -> HttpResponse:
    _require_use(request)
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    qs = sel.patrol_list(
        viewer=request.user,
        manager_id=_int(request.GET.get("manager")),
        room_id=_int(request.GET.get("room")),
        start=_day_start(start) if start else None,
        end=_day_start(end + dt.timedelta(days=1)) if end else None,
    ).annotate(
        n_present=Count("clients_present", distinct=True), n_problems=Count("follow_ups", distinct=True)
    )
    return render(
        request,
        "onsite/visits/patrol_list.html",
        {
            "page": _page(request, qs),
            "managers": list(sel.managers_visible(viewer=request.user).order_by("username")),
            "rooms": list(sel.rooms_visible(viewer=request.user)),
            "f": {
                "manager": _int(request.GET.get("manager")),
                "room": _int(request.GET.get("room")),
                "start": start,
                "end": end,
            },
        },
    )


def _problem_forms(request: AuthedRequest, staff) -> list[ProblemForm]:
    out = []
    for i in range(PROBLEM_ROWS):
        f = ProblemForm(request.POST or None, prefix=f"p{i}")
        _choices(f, "owner").queryset = staff
        out.append(f)
    return out


@login_required
def patrol_new_view(request: AuthedRequest) -> HttpResponse:
    _require_use(request)
    user = request.user
    rooms = sel.rooms_visible(viewer=user).filter(branch=user.branch)
    room_id = _int(request.POST.get("room") or request.GET.get("room"))
    room = rooms.filter(pk=room_id).first() if room_id else None
    form = PatrolForm(
        request.POST or None,
        initial={"room": room, "at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    _choices(form, "room").queryset = rooms
    # Clients present: those seated in the room (any branch client is accepted by the service).
    seated = Client.objects.filter(seat__room=room).exclude(status=Client.Status.CLOSED) if room else None
    _choices(form, "clients_present").queryset = (
        seated.select_related("seat").order_by("seat__label") if seated is not None else Client.objects.none()
    )
    staff = User.objects.filter(branch_id=user.branch_id, is_active=True).order_by("username")
    problems = _problem_forms(request, staff)
    if request.method == "POST" and form.is_valid() and all(p.is_valid() for p in problems):
        data = form.cleaned_data
        rows = [p.cleaned_data for p in problems if p.cleaned_data.get("description")]
        try:
            patrol = patrol_record(
                actor=user,
                room=data["room"],
                data={"at": data["at"], "observations": data["observations"]},
                clients_present=data["clients_present"],
                problems=rows,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            kind = _("计划内") if patrol.plan_item_id else _("计划外")
            messages.success(
                request,
                _("已记录 %(r)s 的巡视（%(k)s），生成跟进事项 %(n)d 项。")
                % {"r": patrol.room.name, "k": kind, "n": len(rows)},
            )
            return redirect("onsite:today" if user.has_cap(Cap.ONSITE_SERVE) else "onsite:patrols")
    return render(
        request,
        "onsite/visits/patrol_form.html",
        {"form": form, "problems": problems, "room": room, "rooms": list(rooms)},
    )


@login_required
def patrol_detail_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_use(request)
    patrol = sel.patrol_get(viewer=request.user, pk=pk)
    return render(
        request,
        "onsite/visits/patrol_detail.html",
        {
            "patrol": patrol,
            "present": list(patrol.clients_present.select_related("seat").order_by("client_no")),
            "followups": list(patrol.follow_ups.select_related("owner", "client").order_by("due_on")),
        },
    )


# --- follow-ups ----------------------------------------------------------------------------------------

FOLLOWUP_CAPS = (Cap.ONSITE_SERVE, Cap.ADVICE_WRITE, Cap.SUPERVISE)


def _require_followups(request: AuthedRequest) -> None:
    if not any(request.user.has_cap(c) for c in FOLLOWUP_CAPS):
        raise PermissionDenied


@login_required
def followup_list_view(request: AuthedRequest) -> HttpResponse:
    _require_followups(request)
    today = timezone.localdate()
    state = request.GET.get("state", FollowUp.State.OPEN)
    if state not in FollowUp.State.values:
        state = ""
    overdue = request.GET.get("overdue") == "1"
    qs = sel.followup_list(
        viewer=request.user,
        state=state or None,
        owner_id=_int(request.GET.get("owner")),
        overdue_on=today if overdue else None,
    )
    return render(
        request,
        "onsite/visits/followup_list.html",
        {"page": _page(request, qs), "today": today, "f": {"state": state, "overdue": overdue}},
    )


@login_required
@require_POST
def followup_done_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """完成 a follow-up (HTMX: answers the updated row; otherwise back to the list)."""
    _require_followups(request)
    followup = sel.followup_get(viewer=request.user, pk=pk)
    error = ""
    try:
        followup = followup_complete(
            actor=request.user, followup=followup, resolution=request.POST.get("resolution", "")
        )
    except DomainError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        error = exc.message
    if request.htmx:
        followup = sel.followup_list(viewer=request.user).get(pk=followup.pk)
        return render(
            request,
            "onsite/visits/_followup_row.html",
            {"fu": followup, "today": timezone.localdate(), "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("跟进事项已完成。"))
    return redirect(reverse("onsite:followups"))
