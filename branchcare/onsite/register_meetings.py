"""The exchange meeting's extension points: client 360 timeline events (meetings invited to and
attended) and the director's 工作台 card (the next meeting and its RSVPs). Imported by
``OnsiteConfig.ready()``; also loads the weekly Huey task."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core import timeline
from branchcare.core.workbench import WorkbenchCard, register
from branchcare.org.capabilities import Cap

from . import tasks_meetings  # noqa: F401 - registers the periodic task with Huey
from .models import ExchangeMeeting, MeetingInvitation
from .selectors_meetings import can_view_meetings, client_meeting_history, meeting_branches


def meeting_events(*, client, viewer, start, end):
    """One event per meeting the client was invited to: attended, absent, or the RSVP (one query)."""
    for inv in client_meeting_history(client=client, start=start, end=end):
        meeting = inv.meeting
        if inv.attended:
            title, icon = _("出席客户交流会：%(t)s"), "bi-people-fill"
        elif inv.attended is False:
            title, icon = _("受邀未出席交流会：%(t)s"), "bi-person-dash"
        else:
            title, icon = _("受邀参加客户交流会：%(t)s"), "bi-envelope"
        yield timeline.TimelineEvent(
            at=meeting.starts_at,
            kind="meeting",
            title=title % {"t": meeting.topic},
            detail=_("回复：%(r)s · 地点：%(l)s") % {"r": inv.get_rsvp_display(), "l": meeting.location},
            url=reverse("onsite:meeting_detail", args=[meeting.pk]) if can_view_meetings(viewer) else "",
            icon=icon,
        )


timeline.register("onsite.meetings", meeting_events)


def meeting_cards(user) -> list[WorkbenchCard]:
    """For the director: the next planned meeting of their branch with RSVP counts (two queries)."""
    if not user.has_cap(Cap.SUPERVISE):
        return []
    meeting = (
        ExchangeMeeting.objects.filter(
            branch__in=meeting_branches(user),
            state=ExchangeMeeting.State.PLANNED,
            starts_at__gte=timezone.now(),
        )
        .annotate(
            invited=Count("invitations"),
            yes=Count("invitations", filter=Q(invitations__rsvp=MeetingInvitation.Rsvp.YES)),
            no=Count("invitations", filter=Q(invitations__rsvp=MeetingInvitation.Rsvp.NO)),
        )
        .order_by("starts_at")
        .first()
    )
    if meeting is None:
        return [
            WorkbenchCard(
                title=_("下一场客户交流会"),
                value="—",
                url=reverse("onsite:meetings"),
                icon="bi-people-fill",
                note=_("还没有安排，点击安排下一场交流会。"),
                order=40,
            )
        ]
    when = timezone.localtime(meeting.starts_at)
    pending = meeting.invited - meeting.yes - meeting.no  # type: ignore[attr-defined]
    return [
        WorkbenchCard(
            title=_("下一场客户交流会"),
            value=f"{when:%m-%d %H:%M}",
            url=reverse("onsite:meeting_detail", args=[meeting.pk]),
            icon="bi-people-fill",
            note=meeting.topic,
            rows=[
                (_("受邀"), str(meeting.invited), ""),  # type: ignore[attr-defined]
                (_("参加"), str(meeting.yes), ""),  # type: ignore[attr-defined]
                (_("不参加"), str(meeting.no), ""),  # type: ignore[attr-defined]
                (_("未回复"), str(pending), ""),
            ],
            order=40,
        )
    ]


register("onsite.meetings", meeting_cards)
