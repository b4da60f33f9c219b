"""Consultation pages: the list / consultant queue, a new order, the draft editor, the detail page with
its actions, the consultant's advice form, transitions and the PDF advice letter."""

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

from branchcare.clients.models import Security
from branchcare.clients.selectors import client_get_for, holdings_for
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.typing import AuthedRequest

from . import services_consultations as svc
from .models import AdviceLine, ConsultationOrder
from .pdf_consultations import advice_letter_pdf
from .workflows import CONSULTATION

S = ConsultationOrder.State
PAGE_SIZE = 50
EXTRA_LINES = 2


def require_order_access(view):
    """Any role that works with consultation orders (manager, consultant, director, compliance)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not svc.can_view_orders(request.user):
            from branchcare.core.security import record_denial

            record_denial(request, reason="consultations")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- forms -------------------------------------------------------------------------------------------------


class OrderForm(BootstrapFormMixin, forms.Form):
    question = forms.CharField(
        label=gettext_lazy("客户问题与需求"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )


class HoldingRowForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(label=gettext_lazy("证券代码"), max_length=12)
    quantity = forms.IntegerField(label=gettext_lazy("数量（股）"), min_value=1)
    cost_price = forms.DecimalField(
        label=gettext_lazy("成本价"), min_value=0, max_digits=14, decimal_places=4
    )

    def clean_code(self) -> Security:
        code = self.cleaned_data["code"].strip()
        security = Security.objects.filter(code=code).order_by("exchange").first()
        if security is None:
            raise forms.ValidationError(_("证券代码 %(c)s 不存在。") % {"c": code})
        return security


HoldingFormSet = forms.formset_factory(HoldingRowForm, extra=2, can_delete=True)


# --- list and detail ---------------------------------------------------------------------------------------


@login_required
@require_order_access
def consultation_list(request: AuthedRequest) -> HttpResponse:
    """Manager: own orders; consultant: the queue (assigned to me, by deadline); director: the branch."""
    user = request.user
    params = request.GET.copy()
    if user.has_cap(Cap.ADVICE_WRITE) and "mine" not in params and not params.get("state"):
        params["mine"] = "1"
        params.setdefault("open", "1")
    filters = svc.OrderFilters.from_params(params)
    now = timezone.now()
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = list(
        svc.order_list(viewer=user, filters=filters, now=now)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "onsite/consultations/list.html",
        {
            "rows": [(o, svc.order_sla_status(o, now)) for o in rows],
            "filters": filters,
            "states": S.choices,
            "page": page,
            "has_next": has_next,
            "has_prev": page > 1,
            "query": query.urlencode(),
            "is_consultant": user.has_cap(Cap.ADVICE_WRITE),
            "can_create": user.has_cap(Cap.ONSITE_SERVE),
        },
    )


@login_required
@require_order_access
def consultation_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    order = svc.order_get_for(viewer=request.user, pk=pk)
    now = timezone.now()
    actions = svc.order_actions(order, request.user)
    return render(
        request,
        "onsite/consultations/detail.html",
        _detail_context(request, order, actions, now),
    )


def _detail_context(request: AuthedRequest, order: ConsultationOrder, actions: list[str], now) -> dict:
    consultants = list(svc.consultants_for(order.branch_id)) if "submit" in actions else []
    labels = {t.name: str(t.label) for t in CONSULTATION.transitions}
    return {
        "o": order,
        "sla": svc.order_sla_status(order, now),
        "holdings": list(order.holdings.select_related("security").order_by("security__code")),
        "advices": svc.order_advices(order),
        "history": [
            (row, svc.format_duration(row.held), svc.format_duration(row.held_working))
            for row in svc.order_history(order, now)
        ],
        "actions": [(n, labels.get(n, _("评分"))) for n in actions],
        "consultants": consultants,
        "delivery_methods": svc.DELIVERY_METHODS.items(),
        "delivery_label": svc.DELIVERY_METHODS.get(order.delivery_method, order.delivery_method),
        "is_consultant": order.consultant_id == request.user.pk,
        "is_manager": order.manager_id == request.user.pk,
        "can_pdf": order.advices.exists(),
    }


# --- new and edit ------------------------------------------------------------------------------------------


@login_required
@require_cap(Cap.ONSITE_SERVE)
def consultation_new(request: AuthedRequest) -> HttpResponse:
    """A new draft order for one of my clients (``?client=``), with the holdings snapshot."""
    client = client_get_for(viewer=request.user, pk=request.GET.get("client"), capability=Cap.ONSITE_SERVE)
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = svc.order_create(
                actor=request.user, client=client, question=form.cleaned_data["question"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("咨询单已建立（草稿），请核对持仓后提交投资顾问。"))
            return redirect("onsite:consultation_detail", pk=order.pk)
    return render(
        request,
        "onsite/consultations/new.html",
        {"form": form, "client": client, "holdings": holdings_for(client=client)},
    )


@login_required
@require_cap(Cap.ONSITE_SERVE)
def consultation_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Edit the draft's question and holdings snapshot."""
    order = svc.order_get_for(viewer=request.user, pk=pk)
    if order.manager_id != request.user.pk:
        raise Http404
    if order.state != S.DRAFT:
        messages.warning(request, _("咨询单已提交，持仓与问题不能再修改。"))
        return redirect("onsite:consultation_detail", pk=order.pk)
    initial = [
        {"code": h.security.code, "quantity": h.quantity, "cost_price": h.cost_price}
        for h in order.holdings.select_related("security").order_by("security__code")
    ]
    form = OrderForm(request.POST or None, initial={"question": order.question})
    formset = HoldingFormSet(request.POST or None, initial=initial, prefix="h")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [
            svc.HoldingInput(
                f.cleaned_data["code"].pk, f.cleaned_data["quantity"], f.cleaned_data["cost_price"]
            )
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            svc.order_holdings_update(
                actor=request.user, order=order, holdings=rows, question=form.cleaned_data["question"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("咨询单已保存。"))
            return redirect("onsite:consultation_detail", pk=order.pk)
    return render(request, "onsite/consultations/edit.html", {"o": order, "form": form, "formset": formset})


# --- advice ------------------------------------------------------------------------------------------------


@login_required
@require_cap(Cap.ADVICE_WRITE)
def consultation_advice(request: AuthedRequest, pk: int) -> HttpResponse:
    """The consultant's advice form: one line per holding, up to two new securities, the overall
    recommendation and the risk warning. Delivered orders get the correction form (a new version)."""
    order = svc.order_get_for(viewer=request.user, pk=pk)
    if order.consultant_id != request.user.pk:
        raise Http404
    correcting = order.state in (S.DELIVERED, S.CLOSED)
    if order.state not in (S.SUBMITTED, S.IN_ANALYSIS) and not correcting:
        messages.warning(request, _("当前状态不能撰写投顾意见。"))
        return redirect("onsite:consultation_detail", pk=order.pk)
    holdings = list(order.holdings.select_related("security").order_by("security__code"))
    latest = order.advices.prefetch_related("lines").order_by("-version").first()
    previous = {line.security_id: line for line in latest.lines.all()} if latest else {}
    data = request.POST if request.method == "POST" else None
    error = ""
    if data is not None:
        lines, problems = _lines_from_post(data, holdings)
        try:
            if problems:
                raise DomainError(problems[0], field="lines")
            common: dict[str, Any] = {
                "actor": request.user,
                "order": order,
                "overall": data.get("overall", ""),
                "risk_warning": data.get("risk_warning", ""),
                "lines": lines,
                "client_request_ack": data.get("client_request_ack") == "on",
                "citations": data.getlist("citations"),
            }
            if correcting:
                svc.advice_correct(reason=data.get("reason", ""), **common)
                messages.success(request, _("已保存更正版本，并通知客户经理。"))
            else:
                submit = data.get("submit") == "1"
                svc.advice_save(submit=submit, **common)
                messages.success(
                    request, _("投顾意见已提交客户经理复核。") if submit else _("投顾意见已保存。")
                )
            return redirect("onsite:consultation_detail", pk=order.pk)
        except DomainError as exc:
            error = exc.message
    rows = []
    for h in holdings:
        prev = previous.get(h.security_id)
        rows.append(
            {
                "h": h,
                "action": data.get(f"action_{h.security_id}") if data else (prev.action if prev else ""),
                "rationale": data.get(f"rationale_{h.security_id}")
                if data
                else (prev.rationale if prev else ""),
            }
        )
    if data is not None:
        cited = _citation_rows(request, data.getlist("citations"))
    else:
        cited = [
            {
                "id": c.research_item_id,
                "title": c.title,
                "publisher": c.publisher,
                "published_on": c.published_on,
            }
            for c in (latest.citations.all() if latest else [])
        ]
    extras = [
        {
            "i": i,
            "code": data.get(f"extra_code_{i}", "") if data else "",
            "action": data.get(f"extra_action_{i}", "") if data else "",
            "rationale": data.get(f"extra_rationale_{i}", "") if data else "",
        }
        for i in range(EXTRA_LINES)
    ]
    return render(
        request,
        "onsite/consultations/advice.html",
        {
            "o": order,
            "rows": rows,
            "extras": extras,
            "actions": AdviceLine.Action.choices,
            "extra_actions": [(a, label) for a, label in AdviceLine.Action.choices if a in ("buy", "watch")],
            "overall": data.get("overall") if data else (latest.overall if latest else ""),
            "risk_warning": data.get("risk_warning")
            if data
            else (latest.risk_warning if latest else svc.RISK_WARNING_DEFAULT),
            "ack": (data.get("client_request_ack") == "on") if data else False,
            "error": error,
            "cited": cited,
            "correcting": correcting,
            "returned_reason": latest.returned_reason if latest and latest.returned_reason else "",
        },
    )


def _citation_rows(request: AuthedRequest, ids: list[str]) -> list[dict]:
    """The items ticked on a re-displayed form, as the snapshot the advice would store (visible ones only)."""
    from branchcare.research.selectors import item_base_qs

    wanted = [int(i) for i in ids if str(i).isdigit()]
    items = {
        i.pk: i for i in item_base_qs(viewer=request.user).filter(pk__in=wanted).select_related("source")
    }
    return [
        {
            "id": i.pk,
            "title": i.title,
            "publisher": i.publisher or i.source.name,
            "published_on": i.published_on,
        }
        for pk in wanted
        if (i := items.get(pk)) is not None
    ]


def _own_order_for_advice(request: AuthedRequest, pk: int) -> ConsultationOrder:
    order = svc.order_get_for(viewer=request.user, pk=pk)
    if order.consultant_id != request.user.pk:
        raise Http404
    return order


@login_required
@require_cap(Cap.ADVICE_WRITE)
def consultation_cite_search(request: AuthedRequest, pk: int) -> HttpResponse:
    """HTMX: published research items from valid sources matching ``q``, each with a 引用 button."""
    from branchcare.research.selectors import citable_items

    order = _own_order_for_advice(request, pk)
    q = (request.GET.get("q") or "").strip()[:100]
    items = citable_items(viewer=request.user, q=q, limit=10)
    return render(request, "onsite/consultations/_cite_results.html", {"o": order, "items": items, "q": q})


@login_required
@require_cap(Cap.ADVICE_WRITE)
def consultation_cite_row(request: AuthedRequest, pk: int) -> HttpResponse:
    """HTMX: the ticked row for one research item (its snapshot), or why it cannot be cited."""
    order = _own_order_for_advice(request, pk)
    try:
        item = svc.citable_items_for(actor=request.user, ids=[request.GET.get("item")])[0]
    except DomainError as exc:
        return render(request, "onsite/consultations/_cite_row.html", {"o": order, "row_error": exc.message})
    row = {
        "id": item.pk,
        "title": item.title,
        "publisher": item.publisher or item.source.name,
        "published_on": item.published_on,
    }
    return render(request, "onsite/consultations/_cite_row.html", {"o": order, "c": row})


def _lines_from_post(data, holdings) -> tuple[list[svc.LineInput], list[str]]:
    lines = [
        svc.LineInput(
            h.security_id, data.get(f"action_{h.security_id}", ""), data.get(f"rationale_{h.security_id}", "")
        )
        for h in holdings
    ]
    problems = []
    for i in range(EXTRA_LINES):
        code = (data.get(f"extra_code_{i}") or "").strip()
        if not code:
            continue
        security = Security.objects.filter(code=code).order_by("exchange").first()
        if security is None:
            problems.append(_("证券代码 %(c)s 不存在。") % {"c": code})
            continue
        lines.append(
            svc.LineInput(
                security.pk, data.get(f"extra_action_{i}") or "buy", data.get(f"extra_rationale_{i}", "")
            )
        )
    return lines, problems


# --- transitions and the letter ----------------------------------------------------------------------------


@login_required
@require_order_access
@require_POST
def consultation_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    """POST ``name`` (+ ``note`` and the step's fields): perform one step, back to the detail page."""
    order = svc.order_get_for(viewer=request.user, pk=pk)
    name = request.POST.get("name", "")
    try:
        svc.order_transition(actor=request.user, order=order, name=name, data=request.POST)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        messages.error(request, exc.message)
    else:
        t = CONSULTATION._by_name.get(name)
        messages.success(request, _("已完成：%(a)s") % {"a": t.label if t else _("评分")})
    return redirect("onsite:consultation_detail", pk=order.pk)


@login_required
@require_order_access
def consultation_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    """The advice letter (投资建议书) as a PDF, for delivery to the client."""
    order = svc.order_get_for(viewer=request.user, pk=pk)
    advice = order.advices.order_by("-version").first()
    if advice is None:
        raise Http404
    pdf = advice_letter_pdf(order=order, advice=advice)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="advice-{order.pk}-v{advice.version}.pdf"'
    return response
