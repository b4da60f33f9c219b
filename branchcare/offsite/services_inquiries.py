"""Inquiries and complaints (咨询投诉): scoped reads and every write.

Rules kept here:

* an inquiry comes from a known client (matched by phone or client_no within the branch) or an unknown
  caller (name + phone kept on the inquiry);
* deadlines come from the category's SLA targets in the branch's *service hours* (``.sla``); complaints
  also get the regulatory answer deadline (``OffsiteSettings.complaint_response_days`` calendar days)
  and are kept ``retention_years`` after closing;
* complaints go to the branch's compliance officers as soon as they are registered;
* :func:`inquiries_escalate` (periodic) warns the assignee at 80 % and, on a breach, flags the inquiry
  escalated and tells the director (and compliance for complaints) — once;
* closing a complaint publishes ``offsite.complaint_closed`` (payload: ``inquiry_id``, ``client_id``,
  ``branch_id``, ``actor``), which among others generates the follow-up return visit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client
from branchcare.core import events
from branchcare.core import workflow as wf
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.notify import notify
from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import service_calendar_for
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User
from branchcare.org.scope import scope_q

from . import sla
from .models import CallRecord, Inquiry, InquiryCategory, OffsiteSettings, ReturnVisit
from .workflows import ACTIVE_STATES, INQUIRY, OPEN_STATES

S = Inquiry.State
DEFAULT_FIRST_RESPONSE_HOURS = 2
DEFAULT_RESOLUTION_HOURS = 16

# --- settings and staff ------------------------------------------------------------------------------------


def settings_for(branch_id: int) -> OffsiteSettings:
    """The branch's off-site settings (created with defaults on first use)."""
    obj, _created = OffsiteSettings.objects.get_or_create(branch_id=branch_id)
    return obj


def staff_with_cap(branch_id: int, capability: str) -> QuerySet[User]:
    """Active staff of the branch holding ``capability`` (roles are few: filtered in Python)."""
    role_ids = [r.pk for r in Role.objects.all() if capability in (r.capabilities or [])]
    return (
        User.objects.filter(branch_id=branch_id, is_active=True, roles__in=role_ids)
        .distinct()
        .order_by("username")
    )


def normalise_phone(value: str) -> str:
    """Digits only, without a +86/0086 country prefix."""
    digits = re.sub(r"\D", "", value or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix) :]
    return digits


def match_client(*, branch_id: int, phone: str = "", client_no: str = "") -> Client | None:
    """The branch's client with exactly this phone number or client number (None when unknown or
    ambiguous)."""
    if client_no.strip():
        found = Client.objects.filter(branch_id=branch_id, client_no=client_no.strip()).first()
        if found:
            return found
    p = normalise_phone(phone)
    if len(p) < 7:
        return None
    matches = list(
        Client.objects.filter(branch_id=branch_id, phone_tail=p[-4:], phone=p).select_related("manager")[:2]
    )
    return matches[0] if len(matches) == 1 else None


# --- reads -------------------------------------------------------------------------------------------------


def inquiry_scope_q(viewer: Any) -> Q | None:
    """Agents and the director: the branch's; compliance: the branch's complaints; a customer manager:
    the inquiries assigned to them."""
    parts: list[Q] = []
    for cap in (Cap.OFFSITE_HANDLE, Cap.SUPERVISE):
        q = scope_q(viewer, cap, owner_field=None)
        if q is not None:
            parts.append(q)
    q = scope_q(viewer, Cap.COMPLIANCE_REVIEW, owner_field=None)
    if q is not None:
        parts.append(q & Q(kind=Inquiry.Kind.COMPLAINT))
    if viewer.is_authenticated and viewer.has_cap(Cap.ONSITE_SERVE):
        parts.append(Q(assignee_id=viewer.pk))
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out |= part
    return out


def can_view_inquiries(viewer: Any) -> bool:
    return viewer.is_authenticated and any(
        viewer.has_cap(c)
        for c in (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW, Cap.ONSITE_SERVE)
    )


def can_register(viewer: Any) -> bool:
    return viewer.has_cap(Cap.OFFSITE_HANDLE) or viewer.has_cap(Cap.SUPERVISE)


def inquiry_base_qs(*, viewer: Any) -> QuerySet[Inquiry]:
    q = inquiry_scope_q(viewer)
    return Inquiry.objects.none() if q is None else Inquiry.objects.filter(q)


@dataclass
class InquiryFilters:
    kind: str = ""
    state: str = ""
    mine: bool = False
    overdue: bool = False
    escalated: bool = False
    open_only: bool = False

    @classmethod
    def from_params(cls, params: Any) -> InquiryFilters:
        def flag(name: str) -> bool:
            return (params.get(name) or "").lower() in {"1", "true", "yes", "on"}

        kind, state = params.get("kind") or "", params.get("state") or ""
        return cls(
            kind=kind if kind in Inquiry.Kind.values else "",
            state=state if state in S.values else "",
            mine=flag("mine"),
            overdue=flag("overdue"),
            escalated=flag("escalated"),
            open_only=flag("open"),
        )


def overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=OPEN_STATES) & (
        Q(first_responded_at__isnull=True, first_response_due__lte=now) | Q(resolution_due__lte=now)
    )


def inquiry_list(
    *, viewer: Any, filters: InquiryFilters | None = None, now: dt.datetime | None = None
) -> QuerySet[Inquiry]:
    """The inquiries ``viewer`` may see, filtered; nearest deadline first, then newest."""
    f = filters or InquiryFilters()
    now = now or timezone.now()
    qs = inquiry_base_qs(viewer=viewer).select_related("client", "assignee", "category")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.open_only:
        qs = qs.filter(state__in=ACTIVE_STATES)
    if f.mine:
        qs = qs.filter(assignee_id=viewer.pk)
    if f.overdue:
        qs = qs.filter(overdue_q(now))
    if f.escalated:
        qs = qs.filter(escalated=True)
    return qs.order_by(F("resolution_due").asc(nulls_last=True), "-created_at", "-id")


def inquiry_get_for(*, viewer: Any, pk: Any) -> Inquiry:
    """One inquiry ``viewer`` may see; ``Http404`` otherwise."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = (
        inquiry_base_qs(viewer=viewer)
        .select_related("client", "client__manager", "assignee", "category", "branch", "created_by", "call")
        .filter(pk=pk_int)
        .first()
    )
    if obj is None:
        raise Http404
    return obj


def inquiry_sla(obj: Inquiry, now: dt.datetime | None = None) -> sla.SlaStatus:
    return sla.sla_status(
        now or timezone.now(),
        running=obj.state in OPEN_STATES,
        first_response_due=obj.first_response_due,
        first_responded_at=obj.first_responded_at,
        warn_at=obj.warn_at,
        resolution_due=obj.resolution_due,
        resolved_at=obj.resolved_at,
        escalated=obj.escalated,
    )


def inquiry_actions(obj: Inquiry, viewer: Any) -> list[str]:
    names = [t.name for t in INQUIRY.available(obj, viewer)]
    if obj.state == S.CLOSED and obj.survey_at is None and can_register(viewer):
        names.append("survey")
    return names


def assignable_staff(inquiry: Inquiry) -> list[User]:
    """Service agents of the branch, and the client's own customer manager."""
    staff = list(staff_with_cap(inquiry.branch_id, Cap.OFFSITE_HANDLE))
    manager = inquiry.client.manager if inquiry.client_id and inquiry.client else None
    if manager is not None and manager.is_active and manager not in staff:
        staff.append(manager)
    return staff


def categories_for(branch_id: int) -> QuerySet[InquiryCategory]:
    return InquiryCategory.objects.filter(branch_id=branch_id, active=True).order_by("code")


# --- writes ------------------------------------------------------------------------------------------------


@dataclass
class InquiryInput:
    kind: str = Inquiry.Kind.INQUIRY
    channel: str = Inquiry.Channel.PHONE
    subject: str = ""
    description: str = ""
    category_id: int | None = None
    priority: str = Inquiry.Priority.NORMAL
    client_id: int | None = None
    client_lookup: str = ""  # a phone number or client_no typed by the agent
    caller_name: str = ""
    caller_phone: str = ""
    assignee_id: int | None = None


def _deadlines(branch: Branch, start: dt.datetime, category: InquiryCategory | None, kind: str):
    conf = settings_for(branch.pk)
    try:
        cal = service_calendar_for(branch, timezone.localtime(start).date())
        return sla.inquiry_deadlines(
            cal,
            start,
            first_response_hours=category.first_response_hours if category else DEFAULT_FIRST_RESPONSE_HOURS,
            resolution_hours=category.resolution_hours if category else DEFAULT_RESOLUTION_HOURS,
            regulatory_days=conf.complaint_response_days if kind == Inquiry.Kind.COMPLAINT else None,
        )
    except CalendarRangeError as exc:
        raise DomainError(str(exc), code="calendar") from exc


def _url(obj: Inquiry) -> str:
    return reverse("offsite:inquiry_detail", args=[obj.pk])


@transaction.atomic
def inquiry_create(
    *,
    actor: User,
    data: InquiryInput,
    branch: Branch | None = None,
    call: CallRecord | None = None,
    return_visit: ReturnVisit | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Register an inquiry or complaint; deadlines set, complaint sent to compliance, assigned if asked."""
    if not can_register(actor):
        raise DomainError(_("您没有登记咨询投诉的权限。"), code="forbidden")
    branch = branch or actor.branch
    if branch is None:
        raise DomainError(_("您没有所属营业部，无法登记。"), field="client")
    now = now or timezone.now()
    subject = (data.subject or "").strip()
    if not subject:
        raise DomainError(_("请填写主题。"), field="subject")
    if data.kind not in Inquiry.Kind.values:
        raise DomainError(_("类型无效。"), field="kind")
    if data.channel not in Inquiry.Channel.values:
        raise DomainError(_("渠道无效。"), field="channel")
    if data.priority not in Inquiry.Priority.values:
        raise DomainError(_("优先级无效。"), field="priority")
    client = None
    if data.client_id:
        client = Client.objects.filter(pk=data.client_id, branch=branch).first()
        if client is None:
            raise DomainError(_("客户不存在或不属于本营业部。"), field="client")
    elif data.client_lookup.strip():
        client = match_client(branch_id=branch.pk, phone=data.client_lookup, client_no=data.client_lookup)
    if client is None and not (data.caller_name.strip() or data.caller_phone.strip()):
        raise DomainError(_("未匹配到客户，请填写来电人姓名或电话。"), field="caller_name")
    category = None
    if data.category_id:
        category = InquiryCategory.objects.filter(pk=data.category_id, branch=branch, active=True).first()
        if category is None:
            raise DomainError(_("类别不存在。"), field="category")
    d = _deadlines(branch, now, category, data.kind)
    obj = Inquiry.objects.create(
        branch=branch,
        kind=data.kind,
        channel=data.channel,
        client=client,
        caller_name=data.caller_name.strip()[:50] or (client.name if client else ""),
        caller_phone=normalise_phone(data.caller_phone)[:20] or (call.phone if call else ""),
        category=category,
        priority=data.priority,
        subject=subject[:200],
        description=data.description.strip(),
        created_by=actor,
        call=call,
        return_visit=return_visit,
        created_at=now,
        state_changed_at=now,
        first_response_due=d.first_response_due,
        warn_at=d.warn_at,
        resolution_due=d.resolution_due,
        regulatory_due=d.regulatory_due,
    )
    audit_log(
        actor=actor,
        action="offsite.inquiry.create",
        obj=obj,
        changes={"kind": [None, obj.kind], "subject": [None, obj.subject], "client": [None, obj.client_id]},
    )
    if obj.kind == Inquiry.Kind.COMPLAINT:
        notify(
            recipients=staff_with_cap(branch.pk, Cap.COMPLIANCE_REVIEW),
            title=_("新投诉 #%(pk)s：%(s)s") % {"pk": obj.pk, "s": obj.subject},
            body=_("客户：%(c)s；监管答复期限：%(d)s")
            % {"c": obj.party_name, "d": timezone.localtime(obj.regulatory_due).strftime("%Y-%m-%d")},
            url=_url(obj),
            kind="warning",
        )
    if data.assignee_id:
        assignee = User.objects.filter(pk=data.assignee_id).first()
        if assignee is None:
            raise DomainError(_("经办人不存在。"), field="assignee")
        obj = inquiry_assign(actor=actor, inquiry=obj, assignee=assignee, now=now)
    return obj


@transaction.atomic
def inquiry_assign(
    *, actor: User, inquiry: Inquiry, assignee: User, now: dt.datetime | None = None
) -> Inquiry:
    """Assign to a service agent of the branch or to the client's own customer manager."""
    allowed = {u.pk for u in assignable_staff(inquiry)}
    if assignee.pk not in allowed:
        raise DomainError(_("经办人须为本营业部的客服专员或该客户的客户经理。"), field="assignee")
    obj = wf.transition(
        workflow=INQUIRY,
        obj=inquiry,
        name="assign",
        actor=actor,
        holder=assignee,
        changes={"assignee": assignee},
        now=now,
    )
    if assignee.pk != actor.pk:
        notify(
            recipients=[assignee],
            title=_("%(k)s #%(pk)s 已分派给您：%(s)s")
            % {"k": inquiry.get_kind_display(), "pk": inquiry.pk, "s": inquiry.subject},
            url=_url(inquiry),
        )
    return obj  # type: ignore[return-value]


@transaction.atomic
def inquiry_transition(
    *,
    actor: User,
    inquiry: Inquiry,
    name: str,
    note: str = "",
    client_confirmed: bool = False,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Perform a working step: start, resolve (the note is the resolution), reopen, close, cancel."""
    now = now or timezone.now()
    changes: dict[str, Any] = {}
    holder = inquiry.assignee
    if name == "assign":
        raise DomainError(_("请选择经办人。"), field="assignee")
    if name == "start":
        if inquiry.first_responded_at is None:
            changes["first_responded_at"] = now
        if inquiry.assignee_id is None:
            changes["assignee"] = actor
            holder = actor
    elif name == "resolve":
        changes.update(resolution=note.strip(), resolved_at=now)
        if inquiry.first_responded_at is None:
            changes["first_responded_at"] = now
    elif name == "reopen":
        changes.update(resolved_at=None, client_confirmed=False)
    elif name == "close":
        if not client_confirmed and not note.strip():
            raise DomainError(_("客户未确认处理结果时，请说明关闭原因（如多次联系未果）。"), field="note")
        conf = settings_for(inquiry.branch_id)
        changes.update(
            client_confirmed=client_confirmed,
            closed_at=now,
            retention_until=_add_years(timezone.localtime(now).date(), conf.retention_years),
        )
        holder = None
    elif name == "cancel":
        conf = settings_for(inquiry.branch_id)
        changes["retention_until"] = _add_years(timezone.localtime(now).date(), conf.retention_years)
        holder = None
    obj: Inquiry = wf.transition(  # type: ignore[assignment]
        workflow=INQUIRY,
        obj=inquiry,
        name=name,
        actor=actor,
        note=note,
        changes=changes,
        holder=holder,
        now=now,
    )
    if name == "close" and obj.kind == Inquiry.Kind.COMPLAINT:
        events.publish(
            "offsite.complaint_closed",
            inquiry_id=obj.pk,
            client_id=obj.client_id,
            branch_id=obj.branch_id,
            actor=actor,
        )
    return obj


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def inquiry_survey(*, actor: User, inquiry: Inquiry, score: int, comment: str = "") -> Inquiry:
    """Record the satisfaction survey (1–5) of a closed inquiry, once."""
    if not can_register(actor) or actor.branch_id != inquiry.branch_id:
        raise DomainError(_("您没有登记满意度调查的权限。"), code="forbidden")
    locked = Inquiry.objects.select_for_update(of=("self",)).get(pk=inquiry.pk)
    if locked.state != S.CLOSED:
        raise DomainError(_("只有已关闭的咨询投诉才能做满意度调查。"), code="invalid_state")
    if locked.survey_at is not None:
        raise DomainError(_("该咨询投诉已做过满意度调查。"), code="invalid_state")
    if not 1 <= int(score) <= 5:
        raise DomainError(_("满意度评分须在 1 到 5 之间。"), field="score")
    locked.survey_score, locked.survey_comment, locked.survey_at = (
        int(score),
        comment.strip()[:500],
        timezone.now(),
    )
    locked.save(update_fields=["survey_score", "survey_comment", "survey_at"])
    audit_log(
        actor=actor, action="offsite.inquiry.survey", obj=locked, changes={"survey_score": [None, score]}
    )
    return locked


def inquiries_escalate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Warn assignees of inquiries past 80 % of their time, and escalate breached ones: flag, tell the
    director (and compliance for complaints). Each happens once per inquiry; safe to run repeatedly."""
    now = now or timezone.now()
    counts = {"warned": 0, "escalated": 0}
    warn_ids = list(
        Inquiry.objects.filter(
            state__in=OPEN_STATES, warned=False, escalated=False, warn_at__lte=now, assignee__isnull=False
        ).values_list("pk", flat=True)[:2000]
    )
    for pk in warn_ids:
        with transaction.atomic():
            obj = (
                Inquiry.objects.select_for_update(of=("self",))
                .select_related("assignee")
                .filter(pk=pk, warned=False)
                .first()
            )
            if obj is None:
                continue
            obj.warned = True
            obj.save(update_fields=["warned"])
            notify(
                recipients=[obj.assignee],
                title=_("%(k)s #%(pk)s 即将到期：%(s)s")
                % {"k": obj.get_kind_display(), "pk": obj.pk, "s": obj.subject},
                url=_url(obj),
                kind="warning",
            )
            counts["warned"] += 1
    ids = list(Inquiry.objects.filter(overdue_q(now), escalated=False).values_list("pk", flat=True)[:2000])
    for pk in ids:
        with transaction.atomic():
            obj = (
                Inquiry.objects.select_for_update(of=("self",))
                .select_related("assignee")
                .filter(pk=pk, escalated=False)
                .first()
            )
            if obj is None:
                continue
            which = sla.breach(
                now,
                first_response_due=obj.first_response_due,
                first_responded_at=obj.first_responded_at,
                resolution_due=obj.resolution_due,
            )
            if not which:
                continue
            obj.escalated, obj.escalated_at = True, now
            obj.save(update_fields=["escalated", "escalated_at"])
            audit_log(
                actor=None,
                action="offsite.inquiry.escalate",
                obj=obj,
                changes={"escalated": [False, True], "breach": [None, which]},
            )
            recipients = list(staff_with_cap(obj.branch_id, Cap.SUPERVISE))
            if obj.kind == Inquiry.Kind.COMPLAINT:
                recipients += list(staff_with_cap(obj.branch_id, Cap.COMPLIANCE_REVIEW))
            if obj.assignee is not None:
                recipients.append(obj.assignee)
            what = _("首次响应") if which == "first_response" else _("办结")
            notify(
                recipients=recipients,
                title=_("%(k)s #%(pk)s %(w)s超时，已升级：%(s)s")
                % {"k": obj.get_kind_display(), "pk": obj.pk, "w": what, "s": obj.subject},
                body=_("经办人：%(a)s") % {"a": obj.assignee or _("未分派")},
                url=_url(obj),
                kind="danger",
            )
            counts["escalated"] += 1
    return counts


def inquiry_counts(*, viewer: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """Counts for the list header and the workbench (one query)."""
    now = now or timezone.now()
    return inquiry_base_qs(viewer=viewer).aggregate(
        open=Count("pk", filter=Q(state__in=ACTIVE_STATES)),
        overdue=Count("pk", filter=overdue_q(now)),
        escalated=Count("pk", filter=Q(escalated=True, state__in=ACTIVE_STATES)),
        complaints=Count("pk", filter=Q(kind=Inquiry.Kind.COMPLAINT, state__in=ACTIVE_STATES)),
    )
