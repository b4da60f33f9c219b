"""The weekly client exchange meeting (客户交流会): scheduling from the branch's service standard,
the invitation list, RSVPs, attendance, minutes, cancellation, the weekly automatic scheduling and the
``.ics`` calendar file. Every write is audited."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.notify import notify
from branchcare.core.sla import CalendarRangeError
from branchcare.org.calendar import is_trading_day, standard_for, trading_calendar
from branchcare.org.models import Branch, User

from .models import ExchangeMeeting, MeetingInvitation, MeetingMaterial
from .selectors_meetings import speaker_candidates

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_TOPIC = "每周客户交流会：市场解盘与投资策略"
DEFAULT_LOCATION = "营业部多功能厅"
MAX_WEEKS_AHEAD = 8  # how far meeting_next_start looks for a trading day


# --- scheduling ----------------------------------------------------------------------------------------


def meeting_next_start(branch: Branch, *, after: dt.datetime) -> dt.datetime:
    """The next occurrence of the branch's meeting strictly after ``after``: the weekday and time of the
    service standard in force on that date. A day on which the exchange is closed (a holiday) is skipped
    to the following week; past the calendar's known range the standard's weekday is taken as is (the
    director may move a meeting by hand)."""
    local = after.astimezone(TZ)
    try:
        cal = trading_calendar()
    except CalendarRangeError:  # pragma: no cover - the library always knows some range
        cal = None
    day = local.date()
    for _i in range(7 * MAX_WEEKS_AHEAD):
        standard = standard_for(branch, day)
        if day.weekday() == standard.meeting_weekday:
            starts = dt.datetime.combine(day, standard.meeting_time, tzinfo=TZ)
            if starts > local:
                try:
                    trading = is_trading_day(day, cal=cal)
                except CalendarRangeError:
                    trading = True
                if trading:
                    return starts
        day += dt.timedelta(days=1)
    raise DomainError(
        _("未来 %(n)d 周内找不到可举办交流会的交易日，请手工指定时间。") % {"n": MAX_WEEKS_AHEAD}
    )


def _check_speakers(branch: Branch, speakers: Iterable[User]) -> list[User]:
    speakers = list(speakers)
    allowed = set(speaker_candidates(branch).values_list("pk", flat=True))
    for user in speakers:
        if user.pk not in allowed:
            raise DomainError(
                _("%(u)s 不是本营业部的分析师或投资顾问，不能担任主讲。") % {"u": user}, field="speakers"
            )
    return speakers


def _check_clients(branch: Branch, clients: Iterable[Client], *, field: str) -> list[Client]:
    clients = list(clients)
    for client in clients:
        if client.branch_id != branch.pk:
            raise DomainError(_("客户 %(c)s 不属于本营业部。") % {"c": client.client_no}, field=field)
        if client.status != Client.Status.ACTIVE:
            raise DomainError(_("客户 %(c)s 不是正常状态，不能邀请。") % {"c": client.client_no}, field=field)
    return clients


def _check_planned(meeting: ExchangeMeeting) -> None:
    if meeting.state != ExchangeMeeting.State.PLANNED:
        raise DomainError(
            _("交流会%(s)s，不能再修改邀请名单。") % {"s": meeting.get_state_display()}, code="state"
        )


@transaction.atomic
def meeting_schedule(
    *,
    actor: User | None,
    branch: Branch,
    topic: str,
    starts_at: dt.datetime | None = None,
    location: str = "",
    duration_minutes: int = 90,
    speakers: Iterable[User] = (),
    guest_speakers: Iterable[Client] = (),
    invite: bool = True,
    now: dt.datetime | None = None,
) -> ExchangeMeeting:
    """Plan a meeting (default time: the standard's next occurrence), with its analysts as speakers and
    skilled clients as guest speakers; with ``invite`` the automatic invitation list is generated too.
    Guest speakers are always invited."""
    now = now or timezone.now()
    topic = (topic or "").strip()
    if not topic:
        raise DomainError(_("请填写交流会主题。"), field="topic")
    if starts_at is None:
        starts_at = meeting_next_start(branch, after=now)
    elif starts_at <= now:
        raise DomainError(_("开始时间必须晚于现在。"), field="starts_at")
    if not 15 <= int(duration_minutes) <= 480:
        raise DomainError(_("时长应在 15 到 480 分钟之间。"), field="duration_minutes")
    speakers = _check_speakers(branch, speakers)
    guests = _check_clients(branch, guest_speakers, field="guest_speakers")
    meeting = ExchangeMeeting.objects.create(
        branch=branch,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        location=(location or DEFAULT_LOCATION).strip()[:100],
        topic=topic[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    meeting.speakers.set(speakers)
    meeting.guest_speakers.set(guests)
    audit_log(
        actor=actor,
        action="meeting.schedule",
        obj=meeting,
        changes={
            "starts_at": str(starts_at.astimezone(TZ)),
            "location": meeting.location,
            "speakers": [u.pk for u in speakers],
            "guest_speakers": [c.pk for c in guests],
        },
    )
    if guests:
        MeetingInvitation.objects.bulk_create(
            [MeetingInvitation(meeting=meeting, client=c) for c in guests], ignore_conflicts=True
        )
    if invite:
        invitations_generate(actor=actor, meeting=meeting)
    return meeting


@transaction.atomic
def invitations_generate(*, actor: User | None, meeting: ExchangeMeeting) -> int:
    """Invite every active client of the branch whose tier the standard (in force on the meeting's date)
    invites — large and medium clients by default. Idempotent: clients already invited, or removed and
    re-added by hand, are left alone. Returns how many invitations were added."""
    _check_planned(meeting)
    standard = standard_for(meeting.branch, meeting.starts_at.astimezone(TZ).date())
    tiers = [t for t in (standard.meeting_tiers or []) if t in Client.Tier.values]
    already = set(meeting.invitations.values_list("client_id", flat=True))
    client_ids = [
        pk
        for pk in Client.objects.filter(
            branch_id=meeting.branch_id, status=Client.Status.ACTIVE, tier__in=tiers
        )
        .order_by("client_no")
        .values_list("pk", flat=True)
        if pk not in already
    ]
    MeetingInvitation.objects.bulk_create(
        [MeetingInvitation(meeting=meeting, client_id=pk) for pk in client_ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    audit_log(
        actor=actor,
        action="meeting.invitations_generate",
        obj=meeting,
        changes={"tiers": tiers, "added": len(client_ids)},
    )
    return len(client_ids)


@transaction.atomic
def invitation_add(*, actor: User, meeting: ExchangeMeeting, client: Client) -> MeetingInvitation:
    """Add one client to the invitation list by hand (any tier of the branch)."""
    _check_planned(meeting)
    _check_clients(meeting.branch, [client], field="client")
    invitation, created = MeetingInvitation.objects.get_or_create(meeting=meeting, client=client)
    if not created:
        raise DomainError(_("客户 %(c)s 已在邀请名单中。") % {"c": client.client_no}, field="client")
    audit_log(
        actor=actor,
        action="meeting.invitation_add",
        obj=meeting,
        changes={"client": [None, client.pk]},
    )
    return invitation


@transaction.atomic
def invitation_remove(*, actor: User, meeting: ExchangeMeeting, invitation: MeetingInvitation) -> None:
    """Take a client off the invitation list (a guest speaker stays: remove them as a speaker first)."""
    _check_planned(meeting)
    if invitation.meeting_id != meeting.pk:
        raise DomainError(_("该邀请不属于这场交流会。"))
    if meeting.guest_speakers.filter(pk=invitation.client_id).exists():
        raise DomainError(_("该客户是分享嘉宾，不能从邀请名单中移除。"))
    client_id = invitation.client_id
    invitation.delete()
    audit_log(
        actor=actor, action="meeting.invitation_remove", obj=meeting, changes={"client": [client_id, None]}
    )


@transaction.atomic
def rsvp_set(*, actor: User, invitation: MeetingInvitation, rsvp: str) -> MeetingInvitation:
    """Record the client's answer (参加 / 不参加 / 未回复), as told to their manager."""
    if rsvp not in MeetingInvitation.Rsvp.values:
        raise DomainError(_("回复只能是：参加、不参加或未回复。"), field="rsvp")
    invitation = MeetingInvitation.objects.select_for_update().select_related("meeting").get(pk=invitation.pk)
    if invitation.meeting.state == ExchangeMeeting.State.CANCELLED:
        raise DomainError(_("交流会已取消，不能再登记回复。"), code="state")
    old = invitation.rsvp
    if old != rsvp:
        invitation.rsvp = rsvp
        invitation.save(update_fields=["rsvp"])
        audit_log(
            actor=actor,
            action="meeting.rsvp",
            obj=invitation.meeting,
            changes={"client": invitation.client_id, "rsvp": [old, rsvp]},
        )
    return invitation


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    meeting: ExchangeMeeting,
    attended_client_ids: Iterable[int],
    now: dt.datetime | None = None,
) -> int:
    """Record who came (one bulk update: the ticked invitees attended, the others did not) and mark the
    meeting held. Allowed once the meeting has started; may be corrected later. Returns the number
    attended."""
    now = now or timezone.now()
    if meeting.state == ExchangeMeeting.State.CANCELLED:
        raise DomainError(_("交流会已取消，不能登记出席。"), code="state")
    if meeting.starts_at > now:
        raise DomainError(_("交流会尚未开始，开始后才能登记出席。"), code="state")
    wanted = {int(pk) for pk in attended_client_ids}
    invited = set(meeting.invitations.values_list("client_id", flat=True))
    strangers = wanted - invited
    if strangers:
        raise DomainError(_("只能登记受邀客户的出席情况，请先把客户加入邀请名单。"))
    before = sorted(meeting.invitations.filter(attended=True).values_list("client_id", flat=True))
    meeting.invitations.filter(client_id__in=wanted).update(attended=True)
    meeting.invitations.exclude(client_id__in=wanted).update(attended=False)
    old_state = meeting.state
    ExchangeMeeting.objects.filter(pk=meeting.pk).update(state=ExchangeMeeting.State.HELD)
    meeting.state = ExchangeMeeting.State.HELD
    audit_log(
        actor=actor,
        action="meeting.attendance",
        obj=meeting,
        changes={"attended": [before, sorted(wanted)], "state": [old_state, meeting.state]},
    )
    return len(wanted)


@transaction.atomic
def minutes_save(*, actor: User, meeting: ExchangeMeeting, minutes: str) -> ExchangeMeeting:
    """Save the meeting minutes (会议纪要): market comments, stocks discussed, clients' questions."""
    if meeting.state == ExchangeMeeting.State.CANCELLED:
        raise DomainError(_("交流会已取消，不能填写纪要。"), code="state")
    minutes = (minutes or "").strip()
    if meeting.minutes != minutes:
        audit_log(
            actor=actor,
            action="meeting.minutes",
            obj=meeting,
            changes={"minutes": [len(meeting.minutes), len(minutes)]},
        )
        meeting.minutes = minutes
        meeting.save(update_fields=["minutes"])
    return meeting


@transaction.atomic
def material_add(*, actor: User, meeting: ExchangeMeeting, upload: Any) -> MeetingMaterial:
    """Attach a material (PDF, Office, image; checked by content and size) to ``meeting``."""
    from .attachments import check_material

    if meeting.state == ExchangeMeeting.State.CANCELLED:
        raise DomainError(_("交流会已取消，不能上传资料。"), code="state")
    content_type = check_material(upload)
    name = (getattr(upload, "name", "") or "file").strip().replace("/", "_").replace("\\", "_")[-200:]
    material = MeetingMaterial(
        meeting=meeting, original_name=name, size=upload.size, content_type=content_type, uploaded_by=actor
    )
    material.file.save(name, upload, save=False)
    material.save()
    audit_log(
        actor=actor,
        action="meeting.material_add",
        obj=meeting,
        changes={"material": [None, name], "size": [None, material.size]},
    )
    return material


@transaction.atomic
def material_delete(*, actor: User, material: MeetingMaterial) -> None:
    """Remove a material (and its file, once the transaction commits)."""
    meeting = material.meeting
    name, storage, path = material.original_name, material.file.storage, material.file.name
    material.delete()
    audit_log(actor=actor, action="meeting.material_delete", obj=meeting, changes={"material": [name, None]})
    transaction.on_commit(lambda: storage.delete(path))


@transaction.atomic
def meeting_cancel(*, actor: User, meeting: ExchangeMeeting, reason: str) -> ExchangeMeeting:
    """Cancel a planned meeting; the managers of clients who said they would come are told."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写取消原因。"), field="reason")
    locked = ExchangeMeeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.state != ExchangeMeeting.State.PLANNED:
        raise DomainError(_("只有筹备中的交流会可以取消。"), code="state")
    locked.state = ExchangeMeeting.State.CANCELLED
    locked.save(update_fields=["state"])
    audit_log(
        actor=actor,
        action="meeting.cancel",
        obj=locked,
        changes={"state": [ExchangeMeeting.State.PLANNED, locked.state], "reason": reason},
    )
    managers = User.objects.filter(
        pk__in=locked.invitations.exclude(rsvp=MeetingInvitation.Rsvp.NO).values("client__manager_id")
    )
    notify(
        recipients=managers,
        title=_("交流会已取消：%(t)s") % {"t": locked.topic},
        body=_("%(d)s 的交流会已取消，原因：%(r)s。请告知已报名的客户。")
        % {"d": f"{locked.starts_at.astimezone(TZ):%Y-%m-%d %H:%M}", "r": reason},
        url=reverse("onsite:meeting_detail", args=[locked.pk]),
        kind="meeting",
    )
    return locked


# --- the weekly job ------------------------------------------------------------------------------------


def _week_bounds(when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = when.astimezone(TZ)
    monday = local.date() - dt.timedelta(days=local.weekday())
    start = dt.datetime.combine(monday, dt.time(0, 0), tzinfo=TZ)
    return start, start + dt.timedelta(days=7)


def meeting_ensure_upcoming(*, branch: Branch, now: dt.datetime | None = None) -> ExchangeMeeting | None:
    """Create the branch's next meeting (per the standard) with its invitation list unless that week
    already has one — planned, held or cancelled: a cancelled meeting is the director's decision and
    is not undone. Idempotent; the managers of the invited clients are notified. Returns the new
    meeting, or None when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        # Serialise concurrent runs for the branch (a no-op lock on SQLite, which serialises writes anyway).
        Branch.objects.select_for_update().filter(pk=branch.pk).first()
        starts_at = meeting_next_start(branch, after=now)
        week_start, week_end = _week_bounds(starts_at)
        if ExchangeMeeting.objects.filter(
            branch=branch, starts_at__gte=week_start, starts_at__lt=week_end
        ).exists():
            return None
        last = (
            ExchangeMeeting.objects.filter(branch=branch).exclude(location="").order_by("-starts_at").first()
        )
        meeting = meeting_schedule(
            actor=None,
            branch=branch,
            topic=DEFAULT_TOPIC,
            starts_at=starts_at,
            location=last.location if last else DEFAULT_LOCATION,
            speakers=speaker_candidates(branch, analysts_only=True),
            now=now,
        )
        _notify_managers(meeting)
        return meeting


def _notify_managers(meeting: ExchangeMeeting) -> None:
    """Tell each manager how many of their clients are invited (one message per manager)."""
    per_manager: dict[int, int] = defaultdict(int)
    for manager_id in meeting.invitations.exclude(client__manager__isnull=True).values_list(
        "client__manager_id", flat=True
    ):
        per_manager[manager_id] += 1
    if not per_manager:
        return
    when = f"{meeting.starts_at.astimezone(TZ):%Y-%m-%d %H:%M}"
    url = reverse("onsite:meeting_detail", args=[meeting.pk])
    for manager in User.objects.filter(pk__in=per_manager, is_active=True):
        notify(
            recipients=[manager],
            title=_("交流会邀请：%(d)s %(t)s") % {"d": when, "t": meeting.topic},
            body=_("您有 %(n)d 位客户在邀请名单中，请在会前联系客户并登记回复。")
            % {"n": per_manager[manager.pk]},
            url=url,
            kind="meeting",
        )


# --- the .ics file -------------------------------------------------------------------------------------


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ics_fold(line: str) -> list[str]:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never splitting a UTF-8 character."""
    out, current, size = [], "", 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return out


def meeting_ics(meeting: ExchangeMeeting, *, host: str = "branchcare", now: dt.datetime | None = None) -> str:
    """The meeting as an iCalendar file (RFC 5545): CRLF line endings, a stable UID, DTSTART/DTEND with
    TZID=Asia/Shanghai (and the VTIMEZONE it names), SUMMARY, LOCATION, DESCRIPTION."""
    now = now or timezone.now()
    start = meeting.starts_at.astimezone(TZ)
    end = start + dt.timedelta(minutes=meeting.duration_minutes)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    speakers = "、".join(str(u) for u in meeting.speakers.all())
    description = f"主讲：{speakers}" if speakers else ""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//BranchCare//Exchange Meeting//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.pk}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;TZID=Asia/Shanghai:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Asia/Shanghai:{end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{_ics_escape(f'客户交流会：{meeting.topic}')}",
        f"LOCATION:{_ics_escape(meeting.location)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    if meeting.state == ExchangeMeeting.State.CANCELLED:
        lines.append("STATUS:CANCELLED")
    else:
        lines.append("STATUS:CONFIRMED")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    folded = [part for line in lines for part in _ics_fold(line)]
    return "\r\n".join(folded) + "\r\n"
