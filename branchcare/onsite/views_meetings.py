"""客户交流会 pages: the list with attendance rates, planning a meeting, its detail page with the
invitation list (HTMX add / remove / RSVP), attendance, minutes, cancellation and the ``.ics`` file.

Who: the director and the customer managers plan and record the meetings of their branch; analysts
and consultants see the meetings they speak at. A meeting of another branch answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.core.forms import BootstrapFormMixin, add_domain_error
from branchcare.org.models import Branch
from branchcare.org.typing import AuthedRequest

from . import services_meetings as services
from .models import ExchangeMeeting, MeetingInvitation, MeetingMaterial
from .selectors_meetings import (
    attendance_rates,
    can_manage_meetings,
    can_view_meetings,
    meeting_branches,
    meeting_get_for,
    meeting_invitations,
    meeting_list,
    speaker_candidates,
)

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
RATE_WINDOWS = {
    "13": gettext_lazy("近 13 周"),
    "26": gettext_lazy("近 26 周"),
    "52": gettext_lazy("近 52 周"),
}


def weekday_label(when: dt.datetime) -> str:
    return WEEKDAYS[timezone.localtime(when).weekday()]


def _require_view(request: AuthedRequest) -> None:
    if not can_view_meetings(request.user):
        raise PermissionDenied


def _require_manage(request: AuthedRequest) -> None:
    if not can_manage_meetings(request.user):
        raise PermissionDenied


# --- forms ---------------------------------------------------------------------------------------------


def _clients_by_no(branch: Branch, text: str, *, field: str) -> list[Client]:
    numbers = [n for n in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if n]
    found = {c.client_no: c for c in Client.objects.filter(branch=branch, client_no__in=numbers)}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise DomainError(
            _("本营业部没有客户号 %(n)s，请检查后重新输入。") % {"n": "、".join(missing)}, field=field
        )
    return [found[n] for n in numbers]


class MeetingForm(BootstrapFormMixin, forms.Form):
    branch = forms.ModelChoiceField(label=gettext_lazy("营业部"), queryset=Branch.objects.none())
    topic = forms.CharField(label=gettext_lazy("主题"), max_length=200)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("默认为服务标准规定的下一次交流会时间。"),
    )
    duration_minutes = forms.IntegerField(label=gettext_lazy("时长（分钟）"), initial=90)
    location = forms.CharField(label=gettext_lazy("地点"), max_length=100, initial=services.DEFAULT_LOCATION)
    speakers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("主讲分析师"),
        queryset=Branch.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    guest_speakers = forms.CharField(
        label=gettext_lazy("分享经验的客户（客户号）"),
        required=False,
        help_text=gettext_lazy("多个客户号用逗号分隔；分享嘉宾自动加入邀请名单。"),
    )
    invite = forms.BooleanField(
        label=gettext_lazy("按服务标准自动生成邀请名单（大中户）"), required=False, initial=True
    )

    def __init__(self, *args: Any, branches: list[Branch], branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(pk__in=[b.pk for b in branches])  # type: ignore[attr-defined]
        self.fields["speakers"].queryset = speaker_candidates(branch)  # type: ignore[attr-defined]
        self.fields["speakers"].label_from_instance = lambda u: str(u)  # type: ignore[attr-defined]
        if len(branches) < 2:
            self.fields["branch"].widget = forms.HiddenInput()


# --- pages ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def meetings_view(request: AuthedRequest) -> HttpResponse:
    """The meetings the user may see, newest first, and the invited clients' attendance rates."""
    _require_view(request)
    user = request.user
    meetings = list(meeting_list(viewer=user, state=request.GET.get("state", ""))[:100])
    for m in meetings:
        m.weekday_label = weekday_label(m.starts_at)  # type: ignore[attr-defined]
        m.attendance_pct = (  # type: ignore[attr-defined]
            f"{m.attended_count / m.invited_count * 100:.2f}%"  # type: ignore[attr-defined]
            if m.state == ExchangeMeeting.State.HELD and m.invited_count  # type: ignore[attr-defined]
            else "—"
        )
    manage = can_manage_meetings(user)
    branches = list(meeting_branches(user)) if manage else []
    window = request.GET.get("weeks", "13")
    window = window if window in RATE_WINDOWS else "13"
    rates: list = []
    rate_branch = None
    if branches:
        wanted = request.GET.get("branch")
        rate_branch = next((b for b in branches if str(b.pk) == wanted), None) or next(
            (b for b in branches if b.pk == user.branch_id), branches[0]
        )
        rates = attendance_rates(branch=rate_branch, since=timezone.now() - dt.timedelta(weeks=int(window)))[
            :50
        ]
    return render(
        request,
        "onsite/meetings/list.html",
        {
            "meetings": meetings,
            "can_manage": manage,
            "states": ExchangeMeeting.State.choices,
            "state": request.GET.get("state", ""),
            "rates": rates,
            "rate_branch": rate_branch,
            "branches": branches,
            "windows": RATE_WINDOWS,
            "window": window,
        },
    )


@login_required
def meeting_new_view(request: AuthedRequest) -> HttpResponse:
    """Plan a meeting: time from the standard, topic, location, speakers, guest speakers, invitations."""
    _require_manage(request)
    branches = list(meeting_branches(request.user))
    if not branches:
        raise PermissionDenied
    wanted = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.pk) == str(wanted)), None) if wanted else None
    if wanted and branch is None:
        raise Http404
    branch = branch or next((b for b in branches if b.pk == request.user.branch_id), branches[0])
    now = timezone.now()
    try:
        default_start: dt.datetime | None = timezone.localtime(services.meeting_next_start(branch, after=now))
    except DomainError:
        default_start = None
    form = MeetingForm(
        request.POST or None,
        branches=branches,
        branch=branch,
        initial={
            "branch": branch.pk,
            "topic": services.DEFAULT_TOPIC,
            "starts_at": default_start,
            "speakers": list(speaker_candidates(branch, analysts_only=True)),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            guests = _clients_by_no(branch, data["guest_speakers"], field="guest_speakers")
            meeting = services.meeting_schedule(
                actor=request.user,
                branch=branch,
                topic=data["topic"],
                starts_at=data["starts_at"],
                location=data["location"],
                duration_minutes=data["duration_minutes"],
                speakers=data["speakers"],
                guest_speakers=guests,
                invite=data["invite"],
                now=now,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已安排交流会，邀请 %(n)d 位客户。") % {"n": meeting.invitations.count()},
            )
            return redirect("onsite:meeting_detail", pk=meeting.pk)
    return render(request, "onsite/meetings/form.html", {"form": form, "branch": branch})


def _detail_context(request: AuthedRequest, meeting: ExchangeMeeting, **extra: Any) -> dict[str, Any]:
    invitations = list(meeting_invitations(meeting))
    counts = {
        "invited": len(invitations),
        "yes": sum(1 for i in invitations if i.rsvp == MeetingInvitation.Rsvp.YES),
        "no": sum(1 for i in invitations if i.rsvp == MeetingInvitation.Rsvp.NO),
        "pending": sum(1 for i in invitations if i.rsvp == MeetingInvitation.Rsvp.PENDING),
        "attended": sum(1 for i in invitations if i.attended),
    }
    planned = meeting.state == ExchangeMeeting.State.PLANNED
    return {
        "meeting": meeting,
        "weekday": weekday_label(meeting.starts_at),
        "invitations": invitations,
        "counts": counts,
        "can_manage": can_manage_meetings(request.user)
        and meeting_branches(request.user).filter(pk=meeting.branch_id).exists(),
        "editable": planned,
        "started": meeting.starts_at <= timezone.now(),
        "cancelled": meeting.state == ExchangeMeeting.State.CANCELLED,
        "rsvp_choices": MeetingInvitation.Rsvp.choices,
        **extra,
    }


@login_required
@require_GET
def meeting_detail_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_view(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk)
    context = _detail_context(
        request,
        meeting,
        speakers=list(meeting.speakers.all()),
        guests=list(meeting.guest_speakers.all()),
        materials=list(meeting.materials.select_related("uploaded_by")),
        material_form=MaterialForm(),
    )
    return render(request, "onsite/meetings/detail.html", context)


def _invitations_response(
    request: AuthedRequest, meeting: ExchangeMeeting, *, error: str = "", notice: str = ""
) -> HttpResponse:
    if request.htmx:
        return render(
            request,
            "onsite/meetings/_invitations.html",
            _detail_context(request, meeting, error=error, notice=notice),
        )
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect("onsite:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_invitations_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Edit the invitation list: ``action`` = add (``client_no``), remove (``invitation``) or generate."""
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    action = request.POST.get("action")
    try:
        if action == "add":
            client_no = (request.POST.get("client_no") or "").strip()
            if not client_no:
                raise DomainError(_("请输入要邀请的客户号。"), field="client_no")
            (client,) = _clients_by_no(meeting.branch, client_no, field="client_no")
            services.invitation_add(actor=request.user, meeting=meeting, client=client)
            notice = _("已邀请 %(c)s。") % {"c": client}
        elif action == "remove":
            invitation = meeting.invitations.filter(pk=_int(request.POST.get("invitation"))).first()
            if invitation is None:
                raise Http404
            services.invitation_remove(actor=request.user, meeting=meeting, invitation=invitation)
            notice = _("已从邀请名单中移除。")
        elif action == "generate":
            added = services.invitations_generate(actor=request.user, meeting=meeting)
            notice = _("按服务标准新增邀请 %(n)d 位客户。") % {"n": added}
        else:
            return HttpResponse(status=400)
    except DomainError as exc:
        return _invitations_response(request, meeting, error=exc.message)
    return _invitations_response(request, meeting, notice=notice)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
@require_POST
def meeting_rsvp_view(request: AuthedRequest, pk: int, invitation_pk: int) -> HttpResponse:
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    invitation = meeting.invitations.filter(pk=invitation_pk).first()
    if invitation is None:
        raise Http404
    try:
        services.rsvp_set(actor=request.user, invitation=invitation, rsvp=request.POST.get("rsvp", ""))
    except DomainError as exc:
        return _invitations_response(request, meeting, error=exc.message)
    return _invitations_response(request, meeting)


@login_required
@require_POST
def meeting_attendance_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Record who attended: the ticked invitees (``attended`` = client ids) came, the others did not."""
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    ids = [_int(v) for v in request.POST.getlist("attended")]
    try:
        n = services.attendance_record(actor=request.user, meeting=meeting, attended_client_ids=ids)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已登记出席 %(n)d 位客户。") % {"n": n})
    return redirect("onsite:meeting_detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_minutes_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    try:
        services.minutes_save(actor=request.user, meeting=meeting, minutes=request.POST.get("minutes", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("会议纪要已保存。"))
    return redirect("onsite:meeting_detail", pk=meeting.pk)


class MaterialForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("会议资料"))


@login_required
@require_POST
def meeting_material_upload_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Upload a material (PDF / Office / image) to a meeting of the viewer's branch."""
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    form = MaterialForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件。"))
    else:
        try:
            services.material_add(actor=request.user, meeting=meeting, upload=form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("会议资料已上传。"))
    return redirect("onsite:meeting_detail", pk=meeting.pk)


def _material_for(
    request: AuthedRequest, pk: int, material_pk: int, *, manage: bool = False
) -> MeetingMaterial:
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=manage)  # 404 outside the viewer's scope
    material = meeting.materials.filter(pk=material_pk).first()
    if material is None:
        raise Http404
    return material


@login_required
@require_GET
def meeting_material_download_view(request: AuthedRequest, pk: int, material_pk: int) -> FileResponse:
    """Download a material of a meeting the viewer may see (404 otherwise)."""
    _require_view(request)
    material = _material_for(request, pk, material_pk)
    try:
        handle = material.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=material.original_name, content_type=material.content_type
    )


@login_required
@require_POST
def meeting_material_delete_view(request: AuthedRequest, pk: int, material_pk: int) -> HttpResponse:
    _require_manage(request)
    material = _material_for(request, pk, material_pk, manage=True)
    services.material_delete(actor=request.user, material=material)
    messages.success(request, _("已删除会议资料。"))
    return redirect("onsite:meeting_detail", pk=pk)


@login_required
@require_POST
def meeting_cancel_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
    try:
        services.meeting_cancel(actor=request.user, meeting=meeting, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("交流会已取消，已通知相关客户经理。"))
    return redirect("onsite:meeting_detail", pk=meeting.pk)


@login_required
@require_GET
def meeting_ics_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The meeting as a calendar file to add to Outlook / 日历."""
    _require_view(request)
    meeting = meeting_get_for(viewer=request.user, pk=pk)
    body = services.meeting_ics(meeting, host=request.get_host().split(":")[0] or "branchcare")
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
