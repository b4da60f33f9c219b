"""Calls and the screen pop (来电弹屏).

A phone system (CTI) or the agent's softphone posts the caller's number to ``POST /api/v1/calls/incoming``;
:func:`call_incoming` matches the client (exact phone, within the caller's branch), opens a
:class:`CallRecord` for the agent and returns the client card, masked per the caller's right to see
personal data. The agent's calls page polls :func:`call_current` and shows the card live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client
from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.core.masking import mask_id_number, mask_phone
from branchcare.org.capabilities import Cap
from branchcare.org.models import User
from branchcare.org.scope import scope_q

from .models import CallRecord, Inquiry, ReturnVisit
from .services_inquiries import match_client, normalise_phone

OPEN_CALL_WINDOW = dt.timedelta(hours=2)  # an open call older than this no longer pops


@dataclass
class ClientCard:
    """What the screen pop shows of a caller: masked unless the viewer may see personal data."""

    known: bool
    phone: str
    client_id: int | None = None
    client_no: str = ""
    name: str = ""
    tier: str = ""
    risk_level: str = ""
    is_premium: bool = False
    manager: str = ""
    id_number: str = ""
    recent: list[dict[str, Any]] = field(default_factory=list)  # recent inquiries
    open_visits: int = 0


def client_card(*, client: Client | None, phone: str, viewer: Any) -> ClientCard:
    """The card of ``client`` (or of an unknown caller) as ``viewer`` may see it (two queries)."""
    see = viewer.has_cap(Cap.PERSONAL_DATA_VIEW)
    shown_phone = phone if see else mask_phone(phone)
    if client is None:
        return ClientCard(known=False, phone=shown_phone)
    recent = [
        {
            "id": i.pk,
            "kind": i.get_kind_display(),
            "subject": i.subject,
            "state": i.get_state_display(),
            "created_at": timezone.localtime(i.created_at).strftime("%Y-%m-%d"),
        }
        for i in Inquiry.objects.filter(client=client)
        .only("pk", "kind", "subject", "state", "created_at")
        .order_by("-created_at")[:3]
    ]
    return ClientCard(
        known=True,
        phone=shown_phone,
        client_id=client.pk,
        client_no=client.client_no,
        name=client.name,
        tier=client.get_tier_display(),
        risk_level=client.risk_level,
        is_premium=client.is_premium,
        manager=str(client.manager) if client.manager_id else "",
        id_number=client.id_number if see else mask_id_number(client.id_number),
        recent=recent,
        open_visits=ReturnVisit.objects.filter(client=client, state=ReturnVisit.State.OPEN).count(),
    )


@transaction.atomic
def call_incoming(
    *, actor: User, phone: str, agent_username: str = "", now: dt.datetime | None = None
) -> tuple[CallRecord, Client | None]:
    """Open a call record for an incoming call and match its client (exact phone, caller's branch).

    ``agent_username`` names the agent taking the call (a CTI account posts for its agents); by default
    the caller is the agent. The agent must be a service agent of the same branch."""
    if not actor.has_cap(Cap.OFFSITE_HANDLE):
        raise DomainError(_("您没有受理来电的权限。"), code="forbidden")
    if actor.branch_id is None:
        raise DomainError(_("您没有所属营业部，无法受理来电。"), field="agent")
    number = normalise_phone(phone)
    if len(number) < 5:
        raise DomainError(_("来电号码无效。"), field="phone")
    agent = actor
    if agent_username and agent_username != actor.username:
        found = User.objects.filter(
            username=agent_username, is_active=True, branch_id=actor.branch_id
        ).first()
        if found is None or not found.has_cap(Cap.OFFSITE_HANDLE):
            raise DomainError(
                _("坐席 %(u)s 不存在或不是本营业部的客服专员。") % {"u": agent_username}, field="agent"
            )
        agent = found
    now = now or timezone.now()
    client = match_client(branch_id=actor.branch_id, phone=number)
    call = CallRecord.objects.create(
        branch_id=actor.branch_id, agent=agent, phone=number[:20], client=client, started_at=now
    )
    audit_log(
        actor=actor,
        action="offsite.call.incoming",
        obj=call,
        changes={"agent": [None, agent.username], "client": [None, client.pk if client else None]},
    )
    return call, client


def call_scope_q(viewer: Any):
    """Agents and the director see the branch's calls; others none."""
    parts = [
        q
        for cap in (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
        if (q := scope_q(viewer, cap, owner_field=None)) is not None
    ]
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def call_list(*, viewer: Any, mine: bool = False) -> QuerySet[CallRecord]:
    q = call_scope_q(viewer)
    if q is None:
        return CallRecord.objects.none()
    qs = CallRecord.objects.filter(q).select_related("client", "agent")
    if mine:
        qs = qs.filter(agent=viewer)
    return qs.order_by("-started_at", "-id")


def call_get_for(*, viewer: Any, pk: Any) -> CallRecord:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    call = call_list(viewer=viewer).filter(pk=pk_int).first()
    if call is None:
        raise Http404
    return call


def call_current(*, agent: Any, now: dt.datetime | None = None) -> CallRecord | None:
    """The agent's latest open call of the last two hours (what the screen pop shows)."""
    now = now or timezone.now()
    return (
        CallRecord.objects.filter(agent=agent, ended_at__isnull=True, started_at__gte=now - OPEN_CALL_WINDOW)
        .select_related("client", "client__manager")
        .order_by("-started_at", "-id")
        .first()
    )


@transaction.atomic
def call_end(*, actor: User, call: CallRecord, note: str = "", now: dt.datetime | None = None) -> CallRecord:
    """Hang up: stamp the end of the call (idempotent) and keep the agent's note."""
    if call.agent_id != actor.pk and not actor.has_cap(Cap.SUPERVISE):
        raise DomainError(_("只有接听该来电的坐席可以结束通话。"), code="forbidden")
    locked = CallRecord.objects.select_for_update(of=("self",)).get(pk=call.pk)
    if locked.ended_at is None:
        locked.ended_at = now or timezone.now()
        if note.strip():
            locked.note = note.strip()[:500]
        locked.save(update_fields=["ended_at", "note"])
        audit_log(
            actor=actor,
            action="offsite.call.end",
            obj=locked,
            changes={"ended_at": [None, str(locked.ended_at)]},
        )
    return locked
