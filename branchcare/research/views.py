"""Research platform pages: the item list and search, the editor, the detail page with review actions
and attachments, the compliance review queue, sources, pushes (audience → suitability preview →
delivery) and the in-person delivery tasks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.core.forms import add_domain_error
from branchcare.core.permissions import require_cap
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.typing import AuthedRequest

from . import selectors as sel
from . import services as svc
from .forms import AttachmentForm, ItemForm, PushForm, SourceForm
from .models import ResearchAttachment, ResearchDelivery, ResearchItem, ResearchSource
from .workflows import RESEARCH

PAGE_SIZE = 30


def require_any(*caps: str) -> Callable:
    """Allow users holding at least one of ``caps`` (403 otherwise, recorded)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not sel.has_any(request.user, caps):
                from branchcare.core.security import record_denial

                record_denial(request, reason="|".join(caps))
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_capabilities = caps  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _page(request: AuthedRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


# --- items -------------------------------------------------------------------------------------------------


@login_required
@require_any(*sel.READ_CAPS)
def item_list(request: AuthedRequest) -> HttpResponse:
    """All research the viewer may read, searchable (Chinese full text) and filterable."""
    filters = sel.ItemFilters.from_params(request.GET)
    page = _page(request)
    rows = list(
        sel.item_list(viewer=request.user, filters=filters)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "research/items/list.html",
        {
            "rows": rows[:PAGE_SIZE],
            "filters": filters,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "query": query.urlencode(),
            "kinds": ResearchItem.Kind.choices,
            "states": ResearchItem.State.choices,
            "ratings": list(sel.RISK_RANK),
            "sources": sel.source_list(viewer=request.user),
            "can_write": request.user.has_cap(Cap.RESEARCH_WRITE),
            "can_push": sel.can_push(request.user),
        },
    )


def _item_form_page(request: AuthedRequest, item: ResearchItem | None) -> HttpResponse:
    sources = sel.writable_sources(viewer=request.user)
    if request.method == "POST":
        form = ItemForm(request.POST, sources=sources)
        if form.is_valid():
            data, securities = form.service_data()
            try:
                if item is None:
                    item = svc.item_create(actor=request.user, data=data, securities=securities)
                    messages.success(request, _("已保存草稿。"))
                else:
                    item = svc.item_update(
                        actor=request.user,
                        item=item,
                        data=data,
                        securities=securities,
                        version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, _("已保存修改。"))
                return redirect("research:item_detail", item.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
    else:
        initial: dict[str, Any] = {"kind": request.GET.get("kind") or ResearchItem.Kind.REPORT}
        if item is not None:
            initial = {
                "source": item.source_id, "kind": item.kind, "title": item.title, "summary": item.summary,
                "body": item.body, "risk_rating": item.risk_rating, "industries": "，".join(item.industries),
                "security_codes": ",".join(s.code for s in item.securities.all()),
                "security_code": item.security.code if item.security else "", "direction": item.direction,
                "target_price": item.target_price, "stop_loss": item.stop_loss,
                "horizon_days": item.horizon_days, "reason": item.reason, "expires_on": item.expires_on,
                "version": item.version,
            }  # fmt: skip
        elif sources.count() == 1:
            initial["source"] = sources.first()
        form = ItemForm(initial=initial, sources=sources)
    return render(request, "research/items/edit.html", {"form": form, "item": item})


@login_required
@require_cap(Cap.RESEARCH_WRITE)
def item_new(request: AuthedRequest) -> HttpResponse:
    return _item_form_page(request, None)


@login_required
@require_cap(Cap.RESEARCH_WRITE)
def item_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    item = sel.item_get_for(viewer=request.user, pk=pk)
    if item.state != ResearchItem.State.DRAFT:
        messages.error(request, _("只有草稿可以修改。"))
        return redirect("research:item_detail", item.pk)
    return _item_form_page(request, item)


@login_required
@require_any(*sel.READ_CAPS)
def item_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    from branchcare.core.workflow import history

    item = sel.item_get_for(viewer=request.user, pk=pk)
    user = request.user
    can_write = user.has_cap(Cap.RESEARCH_WRITE)
    return render(
        request,
        "research/items/detail.html",
        {
            "item": item,
            "securities": list(item.securities.all()),
            "attachments": list(item.attachments.all()),
            "actions": [(t.name, t.label) for t in RESEARCH.available(item, user) if t.name != "expire"],
            "history": [(h, RESEARCH.label(h.from_state), RESEARCH.label(h.to_state)) for h in history(item)],
            "can_edit": can_write and item.state == ResearchItem.State.DRAFT,
            "attachment_form": AttachmentForm()
            if can_write and item.state == ResearchItem.State.DRAFT
            else None,
            "can_push": sel.can_push(user) and item.state == ResearchItem.State.PUBLISHED,
            "source_valid": item.source.is_valid_on(),
            "source_reason": item.source.invalid_reason(),
        },
    )


@login_required
@require_any(Cap.RESEARCH_WRITE, Cap.RESEARCH_REVIEW)
@require_POST
def item_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    item = sel.item_get_for(viewer=request.user, pk=pk)
    name = request.POST.get("name", "")
    note = request.POST.get("note", "")
    try:
        if name == "submit":
            svc.item_submit(actor=request.user, item=item)
            messages.success(request, _("已提交合规审核。"))
        elif name in ("approve", "reject"):
            svc.item_review(actor=request.user, item=item, decision=name, comment=note)
            messages.success(request, _("已发布。") if name == "approve" else _("已退回研究员修改。"))
        elif name == "withdraw":
            svc.item_withdraw(actor=request.user, item=item, reason=note)
            messages.success(request, _("已撤回。"))
        else:
            raise DomainError(_("未知的操作。"))
    except DomainError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    if name in ("approve", "reject") and request.POST.get("next") == "queue":
        return redirect("research:review_queue")
    return redirect("research:item_detail", item.pk)


@login_required
@require_cap(Cap.RESEARCH_WRITE)
@require_POST
def attachment_upload(request: AuthedRequest, pk: int) -> HttpResponse:
    item = sel.item_get_for(viewer=request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件。"))
    else:
        try:
            svc.attachment_add(actor=request.user, item=item, upload=form.cleaned_data["file"])
            messages.success(request, _("附件已上传。"))
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("research:item_detail", item.pk)


def _attachment_for(request: AuthedRequest, pk: int) -> ResearchAttachment:
    att = ResearchAttachment.objects.select_related("item").filter(pk=pk).first()
    if att is None:
        raise Http404
    sel.item_get_for(viewer=request.user, pk=att.item_id)  # 404 when the item is out of scope
    return att


@login_required
@require_any(*sel.READ_CAPS)
def attachment_download(request: AuthedRequest, pk: int) -> FileResponse:
    att = _attachment_for(request, pk)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=att.original_name, content_type=att.content_type)


@login_required
@require_cap(Cap.RESEARCH_WRITE)
@require_POST
def attachment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    att = _attachment_for(request, pk)
    try:
        svc.attachment_delete(actor=request.user, attachment=att)
        messages.success(request, _("附件已删除。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("research:item_detail", att.item_id)


@login_required
@require_cap(Cap.RESEARCH_REVIEW)
def review_queue(request: AuthedRequest) -> HttpResponse:
    rows = list(sel.review_queue(viewer=request.user)[:200])
    return render(request, "research/review_queue.html", {"rows": rows})


# --- sources -----------------------------------------------------------------------------------------------


@login_required
@require_any(*sel.SOURCE_VIEW_CAPS)
def source_list(request: AuthedRequest) -> HttpResponse:
    rows = list(sel.source_list(viewer=request.user)[:500])
    return render(
        request,
        "research/sources/list.html",
        {
            "rows": [(s, s.is_valid_on(), s.invalid_reason()) for s in rows],
            "can_edit": sel.can_edit_sources(request.user),
        },
    )


def _source_form_page(request: AuthedRequest, source: ResearchSource | None) -> HttpResponse:
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in SourceForm.Meta.fields}
        try:
            if source is None:
                svc.source_create(actor=request.user, data=data)
            else:
                svc.source_update(
                    actor=request.user,
                    source=source,
                    data=data,
                    version=int(request.POST.get("version") or source.version),
                )
            messages.success(request, _("已保存研究来源。"))
            return redirect("research:sources")
        except DomainError as exc:
            add_domain_error(form, exc)  # type: ignore[arg-type]
    return render(request, "research/sources/edit.html", {"form": form, "source": source})


@login_required
@require_any(*sel.SOURCE_EDIT_CAPS)
def source_new(request: AuthedRequest) -> HttpResponse:
    return _source_form_page(request, None)


@login_required
@require_any(*sel.SOURCE_EDIT_CAPS)
def source_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    source = sel.source_get_for(viewer=request.user, pk=pk)
    if source.branch_id is None and request.user.scope_for(Cap.ORG_CONFIGURE) != "company":
        raise PermissionDenied
    return _source_form_page(request, source)


# --- pushes ------------------------------------------------------------------------------------------------


@login_required
@require_any(*sel.PUSH_CAPS, Cap.RESEARCH_REVIEW)
def push_list(request: AuthedRequest) -> HttpResponse:
    page = _page(request)
    rows = list(sel.push_list(viewer=request.user)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return render(
        request,
        "research/pushes/list.html",
        {
            "rows": rows[:PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_prev": page > 1,
            "can_push": sel.can_push(request.user),
            "latest": sel.latest_published(viewer=request.user, limit=8)
            if sel.can_push(request.user)
            else [],
        },
    )


def _managers_for(user: Any) -> list[User]:
    from branchcare.clients.selectors import client_base_qs

    manager_ids = (
        client_base_qs(viewer=user)
        .exclude(manager__isnull=True)
        .values_list("manager_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=manager_ids).order_by("username")[:200])


@login_required
@require_any(*sel.PUSH_CAPS)
def push_new(request: AuthedRequest) -> HttpResponse:
    """Choose an item and an audience, preview included / excluded clients, then confirm."""
    item = sel.item_get_for(viewer=request.user, pk=request.GET.get("item") or request.POST.get("item"))
    if item.state != ResearchItem.State.PUBLISHED:
        messages.error(request, _("只有已发布的研究成果可以推送。"))
        return redirect("research:item_detail", item.pk)
    managers = _managers_for(request.user)
    preview = None
    initial: dict[str, Any] = {"kind": "holders", "channels": ["wecom"]}
    if item.security_id:
        initial["security_code"] = item.security.code if item.security else ""
    form = PushForm(request.POST or None, managers=managers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("confirm") == "1":
                push = svc.push_create(
                    actor=request.user,
                    item=item,
                    audience=form.audience(),
                    channels=form.cleaned_data["channels"],
                    note=form.cleaned_data.get("note") or "",
                )
                messages.success(request, _("推送已开始，正在逐个客户交付。"))
                return redirect("research:push_detail", push.pk)
            preview = svc.push_preview(actor=request.user, item=item, audience=form.audience())
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(
        request,
        "research/pushes/new.html",
        {
            "item": item,
            "form": form,
            "preview": preview,
            "source_valid": item.source.is_valid_on(),
            "source_reason": item.source.invalid_reason(),
        },  # fmt: skip
    )


@login_required
@require_any(*sel.PUSH_CAPS, Cap.RESEARCH_REVIEW)
def push_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    push = sel.push_get_for(viewer=request.user, pk=pk)
    deliveries = list(sel.deliveries_for_push(push=push)[:500])
    template = (
        "research/pushes/_progress.html"
        if request.headers.get("HX-Request")
        else "research/pushes/detail.html"
    )
    return render(
        request,
        template,
        {
            "push": push,
            "deliveries": deliveries,
            "counts": svc.push_refresh_counts(push),
            "running": push.status in ("queued", "running"),
            "can_retry": sel.can_push(request.user),
        },  # fmt: skip
    )


@login_required
@require_any(*sel.PUSH_CAPS)
@require_POST
def delivery_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    """Send a failed gateway delivery of a push the viewer may see again."""
    delivery = ResearchDelivery.objects.filter(pk=pk, push__isnull=False).first()
    if delivery is None or delivery.push_id is None:
        raise Http404
    push = sel.push_get_for(viewer=request.user, pk=delivery.push_id)
    try:
        svc.delivery_retry(actor=request.user, delivery=delivery)
        messages.success(request, _("已重新发送。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("research:push_detail", push.pk)


@login_required
@require_any(Cap.ONSITE_SERVE, Cap.PREMIUM_SERVE, Cap.SUPERVISE)
def my_tasks(request: AuthedRequest) -> HttpResponse:
    rows = sel.my_delivery_tasks(user=request.user, limit=200)
    return render(request, "research/tasks.html", {"rows": rows})


@login_required
@require_any(Cap.ONSITE_SERVE, Cap.PREMIUM_SERVE, Cap.SUPERVISE)
@require_POST
def delivery_done(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = ResearchDelivery.objects.filter(pk=pk).first()
    if delivery is None or not (
        delivery.owner_id == request.user.pk
        or (request.user.has_cap(Cap.SUPERVISE) and delivery.branch_id == request.user.branch_id)
    ):
        raise Http404
    try:
        svc.delivery_mark_done(actor=request.user, delivery=delivery, note=request.POST.get("note", ""))
        messages.success(request, _("已确认当面交付。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    if request.POST.get("next") == "home":
        return redirect("home")
    return redirect("research:my_tasks")


@login_required
@require_any(*sel.READ_CAPS)
def client_feed(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The research feed of one client (the 360 panel's full list)."""
    from branchcare.clients.selectors import client_get_for

    client: Client = client_get_for(viewer=request.user, pk=client_id)
    items = sel.research_for_client(client=client, limit=50)
    return render(request, "research/client_feed.html", {"client": client, "items": items,
                                                        "deliveries": sel.deliveries_for_client(client=client, viewer=request.user)})  # fmt: skip
