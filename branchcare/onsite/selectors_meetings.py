"""Scoped reads of the weekly exchange meeting (客户交流会): who may see which meetings, the meetings
themselves with their counts, and attendance rates per client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from branchcare.clients.models import Client
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User
from branchcare.org.scope import branches_for

from .models import ExchangeMeeting, MeetingInvitation

# Who plans and records meetings (director, customer managers); who speaks at them (analysts,
# consultants) and may see the meetings they speak at.
MANAGE_CAPS = (Cap.SUPERVISE, Cap.ONSITE_SERVE)
SPEAKER_CAPS = (Cap.RESEARCH_WRITE, Cap.ADVICE_WRITE)
ACTIVE_STATES = (ExchangeMeeting.State.PLANNED, ExchangeMeeting.State.HELD)


def can_manage_meetings(user: User) -> bool:
    return any(user.has_cap(c) for c in MANAGE_CAPS)


def can_view_meetings(user: User) -> bool:
    return can_manage_meetings(user) or any(user.has_cap(c) for c in SPEAKER_CAPS)


def meeting_branches(user: User) -> QuerySet[Branch]:
    """The branches whose meetings ``user`` plans and records (director: branch or company; a customer
    manager: their own branch — meetings belong to the branch, not to one manager)."""
    q = Q(pk__in=[])
    for cap in MANAGE_CAPS:
        if user.has_cap(cap):
            q |= Q(pk__in=branches_for(user, cap).values("pk"))
    return Branch.objects.filter(q).order_by("code")


def _visible_q(user: User) -> Q | None:
    if not user.is_authenticated or not user.is_active:
        return None
    q: Q | None = None
    if can_manage_meetings(user):
        q = Q(branch__in=meeting_branches(user))
    if any(user.has_cap(c) for c in SPEAKER_CAPS):
        speaker = Q(speakers=user)
        q = speaker if q is None else q | speaker
    return q


def meeting_list(*, viewer: User, state: str = "") -> QuerySet[ExchangeMeeting]:
    """The meetings ``viewer`` may see, newest first, with invitation/RSVP/attendance counts."""
    q = _visible_q(viewer)
    if q is None:
        return ExchangeMeeting.objects.none()
    ids = ExchangeMeeting.objects.filter(q).values("pk")  # speakers join: keep the outer query distinct
    qs = ExchangeMeeting.objects.filter(pk__in=ids)
    if state in ExchangeMeeting.State.values:
        qs = qs.filter(state=state)
    return (
        qs.select_related("branch")
        .annotate(
            invited_count=Count("invitations", distinct=True),
            yes_count=Count(
                "invitations", filter=Q(invitations__rsvp=MeetingInvitation.Rsvp.YES), distinct=True
            ),
            attended_count=Count("invitations", filter=Q(invitations__attended=True), distinct=True),
        )
        .order_by("-starts_at", "-pk")
    )


def meeting_get_for(*, viewer: User, pk: Any, manage: bool = False) -> ExchangeMeeting:
    """One meeting ``viewer`` may see (``manage``: may plan and record); 404 otherwise, so a meeting of
    another branch looks exactly like one that does not exist."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if manage:
        qs = ExchangeMeeting.objects.filter(branch__in=meeting_branches(viewer))
    else:
        q = _visible_q(viewer)
        if q is None:
            raise Http404
        qs = ExchangeMeeting.objects.filter(pk__in=ExchangeMeeting.objects.filter(q).values("pk"))
    meeting = qs.select_related("branch", "created_by").filter(pk=pk).first()
    if meeting is None:
        raise Http404
    return meeting


def meeting_invitations(meeting: ExchangeMeeting) -> QuerySet[MeetingInvitation]:
    return (
        meeting.invitations.select_related("client", "client__manager")
        .order_by("client__tier", "client__client_no")
        .all()
    )


def speaker_candidates(branch: Branch, *, analysts_only: bool = False) -> QuerySet[User]:
    """Active staff of ``branch`` who may speak: analysts (研究员) and consultants (投资顾问); with
    ``analysts_only`` the analysts (Cap.RESEARCH_WRITE) alone — the default speakers."""
    wanted = (Cap.RESEARCH_WRITE,) if analysts_only else SPEAKER_CAPS
    role_ids = [
        pk
        for pk, caps in Role.objects.values_list("pk", "capabilities")
        if any(c in (caps or []) for c in wanted)
    ]
    return (
        User.objects.filter(branch=branch, is_active=True, roles__in=role_ids).distinct().order_by("username")
    )


def guest_candidates(branch: Branch) -> QuerySet[Client]:
    """Clients who may be invited to share experience: the branch's active large and medium clients."""
    return Client.objects.filter(
        branch=branch, status=Client.Status.ACTIVE, tier__in=[Client.Tier.LARGE, Client.Tier.MEDIUM]
    ).order_by("client_no")


def next_meeting(*, branch: Branch, now: dt.datetime) -> ExchangeMeeting | None:
    """The branch's next planned meeting from ``now`` on."""
    return (
        ExchangeMeeting.objects.filter(branch=branch, state=ExchangeMeeting.State.PLANNED, starts_at__gte=now)
        .order_by("starts_at")
        .first()
    )


# --- attendance rates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    client_id: int
    client_no: str
    name: str
    tier: str
    invited: int  # invitations to meetings held in the window
    attended: int

    @property
    def rate(self) -> float | None:
        """Attended / invited, 0–1; None when the client was not invited to any held meeting."""
        return self.attended / self.invited if self.invited else None

    @property
    def rate_pct(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.2f}%"


def attendance_rates(
    *,
    branch: Branch,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    client_ids: list[int] | None = None,
) -> list[AttendanceRow]:
    """Per client: invitations to the branch's meetings *held* between ``since`` and ``until`` and how
    many of them the client attended (one aggregate query). Lowest rate first, so the clients drifting
    away come first."""
    qs = MeetingInvitation.objects.filter(meeting__branch=branch, meeting__state=ExchangeMeeting.State.HELD)
    if since is not None:
        qs = qs.filter(meeting__starts_at__gte=since)
    if until is not None:
        qs = qs.filter(meeting__starts_at__lt=until)
    if client_ids is not None:
        qs = qs.filter(client_id__in=client_ids)
    rows = (
        qs.values("client_id", "client__client_no", "client__name", "client__tier")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(attended=True)))
        .order_by("client__client_no")
    )
    out = [
        AttendanceRow(
            client_id=r["client_id"],
            client_no=r["client__client_no"],
            name=r["client__name"],
            tier=r["client__tier"],
            invited=r["invited"],
            attended=r["attended"],
        )
        for r in rows
    ]
    out.sort(key=lambda r: (r.rate if r.rate is not None else 2.0, r.client_no))
    return out


def client_meeting_history(*, client: Client, start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The client's invitations to meetings between ``start`` and ``end`` (for the 360 timeline)."""
    return (
        MeetingInvitation.objects.filter(client=client, meeting__starts_at__range=(start, end))
        .exclude(meeting__state=ExchangeMeeting.State.CANCELLED)
        .select_related("meeting")
        .order_by("-meeting__starts_at")
    )
