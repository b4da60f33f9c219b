"""Reads of prospect development, always scoped to the viewer.

* Brokers (``Cap.PROSPECTS_DEVELOP``) and customer managers (``Cap.ONSITE_SERVE``) see their own
  prospects plus their branch's pool;
* the director (``Cap.SUPERVISE``) sees the whole branch;
* partners are visible to everyone who develops prospects in the branch (they need the referral codes),
  and managed by the director.

An object outside the viewer's scope is a 404, exactly as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from branchcare.org.capabilities import Cap
from branchcare.org.scope import scope_q

from .models import Partner, Prospect
from .workflows import OPEN_STAGES

PROSPECT_CAPS = (Cap.PROSPECTS_DEVELOP, Cap.ONSITE_SERVE, Cap.SUPERVISE)


def can_use_prospects(user: Any) -> bool:
    return bool(user and user.is_authenticated and any(user.has_cap(c) for c in PROSPECT_CAPS))


def prospect_scope_q(viewer: Any) -> Q | None:
    """Own prospects and the pool for owners; the branch for the director; None when not allowed."""
    parts: list[Q] = []
    for cap in (Cap.PROSPECTS_DEVELOP, Cap.ONSITE_SERVE):
        q = scope_q(viewer, cap, owner_field="owner")
        if q is not None:
            parts.append(q)
            if viewer.branch_id:
                parts.append(Q(branch_id=viewer.branch_id, owner__isnull=True))
    sup = scope_q(viewer, Cap.SUPERVISE, owner_field=None)
    if sup is not None:
        parts.append(sup)
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def prospect_base_qs(*, viewer: Any) -> QuerySet[Prospect]:
    q = prospect_scope_q(viewer)
    if q is None:
        return Prospect.objects.none()
    return Prospect.objects.filter(q)


VIEWS = ("mine", "pool", "all")


@dataclass
class ProspectFilters:
    view: str = "mine"  # mine / pool / all (all: everything in scope)
    stage: str = ""
    source: str = ""
    segment: str = ""
    q: str = ""
    overdue: bool = False
    partner: int | None = None
    owner: int | None = None

    @classmethod
    def from_params(cls, params: Any, *, default_view: str = "mine") -> ProspectFilters:
        def pick(name: str, allowed) -> str:
            value = params.get(name) or ""
            return value if value in allowed else ""

        def number(name: str) -> int | None:
            # Plain ASCII digits of a size an id can have: a huge number would overflow the database
            # integer in a foreign-key lookup (500 instead of no match).
            value = (params.get(name) or "").strip()
            return int(value) if re.fullmatch(r"[0-9]{1,17}", value) else None

        return cls(
            view=pick("view", VIEWS) or default_view,
            stage=pick("stage", Prospect.Stage.values),
            source=pick("source", Prospect.Source.values),
            segment=pick("segment", Prospect.Segment.values),
            # NUL characters are dropped: PostgreSQL refuses them in a string literal (500 instead of no match).
            q=(params.get("q") or "").replace("\x00", "").strip()[:50],
            overdue=(params.get("overdue") or "").lower() in {"1", "true", "on", "yes"},
            partner=number("partner"),
            owner=number("owner"),
        )


def default_view(viewer: Any) -> str:
    return "all" if viewer.has_cap(Cap.SUPERVISE) else "mine"


def prospect_list(*, viewer: Any, filters: ProspectFilters | None = None) -> QuerySet[Prospect]:
    """The prospects ``viewer`` may see, filtered; overdue follow-ups first, then newest."""
    f = filters or ProspectFilters(view=default_view(viewer))
    qs = prospect_base_qs(viewer=viewer).select_related("owner", "partner", "client")
    if f.view == "mine":
        qs = qs.filter(owner_id=viewer.pk)
    elif f.view == "pool":
        qs = qs.filter(owner__isnull=True, stage__in=OPEN_STAGES)
    if f.stage:
        qs = qs.filter(stage=f.stage)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.segment:
        qs = qs.filter(segment=f.segment)
    if f.partner:
        qs = qs.filter(partner_id=f.partner)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.overdue:
        qs = qs.filter(stage__in=OPEN_STAGES, next_follow_up_due__lt=timezone.localdate())
    if f.q:
        digits = f.q.replace(" ", "")
        cond = Q(name__icontains=f.q)
        if digits.isdigit() and len(digits) >= 4:
            cond |= Q(phone__endswith=digits)
        qs = qs.filter(cond)
    return qs.order_by(F("next_follow_up_due").asc(nulls_last=True), "-created_at", "-pk")


def prospect_get_for(*, viewer: Any, pk: Any) -> Prospect:
    """One prospect ``viewer`` may see; ``Http404`` otherwise."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    p = (
        prospect_base_qs(viewer=viewer)
        .select_related("branch", "owner", "previous_owner", "partner", "referrer", "client", "credited_partner",
                        "credited_owner", "created_by")
        .filter(pk=pk_int)
        .first()
    )  # fmt: skip
    if p is None:
        raise Http404
    return p


def is_overdue(prospect: Prospect, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        prospect.stage in OPEN_STAGES and prospect.next_follow_up_due and prospect.next_follow_up_due < today
    )


# --- partners ----------------------------------------------------------------------------------------------


def partner_base_qs(*, viewer: Any) -> QuerySet[Partner]:
    parts = [q for cap in PROSPECT_CAPS if (q := scope_q(viewer, cap, owner_field=None)) is not None]
    if not parts:
        return Partner.objects.none()
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return Partner.objects.filter(out)


def partner_get_for(*, viewer: Any, pk: Any) -> Partner:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    partner = partner_base_qs(viewer=viewer).select_related("branch").filter(pk=pk_int).first()
    if partner is None:
        raise Http404
    return partner


def staff_owners(branch_id: int) -> list[Any]:
    """Brokers and managers of the branch who may own prospects (for the director's assign form; two
    queries)."""
    from branchcare.org.models import Role, User

    role_ids = [
        pk
        for pk, caps in Role.objects.values_list("pk", "capabilities")
        if {Cap.PROSPECTS_DEVELOP, Cap.ONSITE_SERVE} & set(caps or [])
    ]
    return list(
        User.objects.filter(branch_id=branch_id, is_active=True, roles__in=role_ids)
        .distinct()
        .order_by("username")
    )
