"""Reads of the premium service, always scoped to the viewer.

* a broker (``Cap.PREMIUM_SERVE``, own scope) sees the enrolments and requests where they are the
  dedicated broker, and those where they are the backup broker;
* the director (``Cap.SUPERVISE``) sees the branch's (the company's with company scope);
* researchers (``Cap.RESEARCH_WRITE``) see the branch's research questions (not the requests).

An object outside the viewer's scope is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404

from branchcare.org.capabilities import Cap
from branchcare.org.scope import scope_q

from .models import Enrolment, PremiumRate, PremiumRequest, ResearchQuestion, ServiceTier
from .workflows import OPEN_STATES


def _or(parts: list[Q]) -> Q | None:
    if not parts:
        return None
    out = parts[0]
    for q in parts[1:]:
        out |= q
    return out


def premium_scope_q(viewer: Any, *, prefix: str = "") -> Q | None:
    """Rows (enrolments or requests, or rows pointing to them through ``prefix``) the viewer may see."""
    parts: list[Q] = []
    own = scope_q(viewer, Cap.PREMIUM_SERVE, branch_field=f"{prefix}branch", owner_field=f"{prefix}broker")
    if own is not None:
        parts.append(own)
        if viewer.branch_id:
            parts.append(
                Q(**{f"{prefix}branch_id": viewer.branch_id, f"{prefix}backup_broker_id": viewer.pk})
            )
    sup = scope_q(viewer, Cap.SUPERVISE, branch_field=f"{prefix}branch", owner_field=None)
    if sup is not None:
        parts.append(sup)
    return _or(parts)


def can_use_desk(viewer: Any) -> bool:
    return viewer.is_authenticated and (viewer.has_cap(Cap.PREMIUM_SERVE) or viewer.has_cap(Cap.SUPERVISE))


def can_use_questions(viewer: Any) -> bool:
    return viewer.is_authenticated and any(
        viewer.has_cap(c) for c in (Cap.RESEARCH_WRITE, Cap.PREMIUM_SERVE, Cap.SUPERVISE)
    )


def _get(qs: QuerySet, pk: Any) -> Any:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = qs.filter(pk=pk_int).first()
    if obj is None:
        raise Http404
    return obj


# --- enrolments --------------------------------------------------------------------------------------------


def enrolment_base_qs(*, viewer: Any) -> QuerySet[Enrolment]:
    q = premium_scope_q(viewer)
    return Enrolment.objects.none() if q is None else Enrolment.objects.filter(q)


def enrolment_list(*, viewer: Any, state: str = "", broker_id: int | None = None) -> QuerySet[Enrolment]:
    qs = enrolment_base_qs(viewer=viewer).select_related("client", "broker", "backup_broker", "branch")
    if state in Enrolment.State.values:
        qs = qs.filter(state=state)
    if broker_id:
        qs = qs.filter(broker_id=broker_id)
    return qs.order_by("-effective_on", "-id")


def enrolment_get_for(*, viewer: Any, pk: Any) -> Enrolment:
    return _get(
        enrolment_base_qs(viewer=viewer).select_related("client", "broker", "backup_broker", "rate"), pk
    )


def client_enrolments(*, client_id: int) -> list[Enrolment]:
    """A client's enrolment history, newest first (one query)."""
    return list(
        Enrolment.objects.filter(client_id=client_id)
        .select_related("broker", "backup_broker")
        .order_by("-effective_on", "-id")[:20]
    )


# --- rates -------------------------------------------------------------------------------------------------


@dataclass
class RateRow:
    tier: str
    label: str
    current: PremiumRate | None
    upcoming: list[PremiumRate]
    history: list[PremiumRate]


def rate_table(*, branch_id: int, today: dt.date) -> list[RateRow]:
    """Per tier: the version in force today, future versions and past ones (one query)."""
    rows = list(
        PremiumRate.objects.filter(branch_id=branch_id)
        .select_related("created_by")
        .order_by("tier", "-effective_from")
    )
    out = []
    for tier, label in ServiceTier.choices:
        versions = [r for r in rows if r.tier == tier]
        current = next((r for r in versions if r.effective_from <= today), None)
        out.append(
            RateRow(
                tier=tier,
                label=str(label),
                current=current,
                upcoming=sorted(
                    (r for r in versions if r.effective_from > today), key=lambda r: r.effective_from
                ),
                history=[r for r in versions if r.effective_from <= today and r is not current],
            )
        )
    return out


def rate_list(*, viewer: Any) -> QuerySet[PremiumRate]:
    """Rate versions of the branches the viewer works with on the desk."""
    q = scope_q(viewer, Cap.SUPERVISE, owner_field=None) or scope_q(
        viewer, Cap.PREMIUM_SERVE, owner_field=None
    )
    if q is None:
        return PremiumRate.objects.none()
    return PremiumRate.objects.filter(q).order_by("branch_id", "tier", "-effective_from")


# --- requests ----------------------------------------------------------------------------------------------


def request_base_qs(*, viewer: Any) -> QuerySet[PremiumRequest]:
    q = premium_scope_q(viewer)
    return PremiumRequest.objects.none() if q is None else PremiumRequest.objects.filter(q)


@dataclass
class RequestFilters:
    state: str = ""
    open_only: bool = False
    escalated: bool = False
    mine: bool = False

    @classmethod
    def from_params(cls, params: Any) -> RequestFilters:
        def flag(name: str) -> bool:
            return (params.get(name) or "").lower() in {"1", "true", "yes", "on"}

        state = params.get("state") or ""
        return cls(
            state=state if state in PremiumRequest.State.values else "",
            open_only=flag("open"),
            escalated=flag("escalated"),
            mine=flag("mine"),
        )


def request_list(*, viewer: Any, filters: RequestFilters | None = None) -> QuerySet[PremiumRequest]:
    """The viewer's queue: open requests first by resolution deadline, then the rest newest first."""
    f = filters or RequestFilters()
    qs = request_base_qs(viewer=viewer).select_related("client", "broker", "backup_broker")
    if f.state:
        qs = qs.filter(state=f.state)
    if f.open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if f.escalated:
        qs = qs.filter(escalation_level__gte=1)
    if f.mine:
        qs = qs.filter(broker_id=viewer.pk)
    return qs.order_by("resolution_due", "-id")


def request_get_for(*, viewer: Any, pk: Any) -> PremiumRequest:
    return _get(
        request_base_qs(viewer=viewer).select_related(
            "client", "broker", "backup_broker", "enrolment", "branch"
        ),
        pk,
    )


def request_thread(req: PremiumRequest) -> list:
    return list(req.messages.select_related("author").order_by("at", "id"))


# --- research questions ------------------------------------------------------------------------------------


def question_base_qs(*, viewer: Any) -> QuerySet[ResearchQuestion]:
    parts: list[Q] = []
    research = scope_q(viewer, Cap.RESEARCH_WRITE, owner_field=None)
    if research is not None:
        parts.append(research)
    req_q = premium_scope_q(viewer, prefix="request__")
    if req_q is not None:
        parts.append(req_q)
    q = _or(parts)
    return ResearchQuestion.objects.none() if q is None else ResearchQuestion.objects.filter(q)


def question_list(*, viewer: Any, pending: bool = False) -> QuerySet[ResearchQuestion]:
    qs = question_base_qs(viewer=viewer).select_related(
        "request__client", "asked_by", "researcher", "answered_by"
    )
    if pending:
        qs = qs.filter(answered_at__isnull=True)
    return qs.order_by(F("answered_at").asc(nulls_first=True), "-asked_at", "-id")


def question_get_for(*, viewer: Any, pk: Any) -> ResearchQuestion:
    return _get(question_base_qs(viewer=viewer).select_related("request", "researcher"), pk)
