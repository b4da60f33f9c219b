"""Reads of research sources, items, pushes and deliveries — always scoped to the viewer.

Who reads what:
- research is readable by any of ``READ_CAPS`` (researchers, compliance, consultants, premium brokers,
  managers, the director) — items of company-wide sources (``branch`` empty) everywhere, items of a
  branch's own sources in that branch (the scope of the viewer's research capability);
- drafts are seen by writers only; items in review by writers and reviewers; other readers see
  published, withdrawn and expired items (the last two because they may have been delivered).

Risk matching (适当性): an item rated R\\ *n* suits a client whose risk level is C\\ *m* with n ≤ m.
A client without a risk level is treated as C1 (only R1 research) until assessed. An expired assessment
keeps its recorded level (as in the consultation suitability check) but the suitability result carries
a warning asking for a re-assessment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from branchcare.clients.models import Client, Holding
from branchcare.clients.selectors import client_base_qs
from branchcare.org.capabilities import Cap
from branchcare.org.scope import scope_q

from .models import ResearchDelivery, ResearchItem, ResearchPush, ResearchSource
from .search import apply_search

S = ResearchItem.State
READ_CAPS = (
    Cap.RESEARCH_WRITE,
    Cap.RESEARCH_REVIEW,
    Cap.ADVICE_WRITE,
    Cap.PREMIUM_SERVE,
    Cap.ONSITE_SERVE,
    Cap.SUPERVISE,
)
PUSH_CAPS = (Cap.ADVICE_WRITE, Cap.PREMIUM_SERVE, Cap.ONSITE_SERVE, Cap.SUPERVISE)
SOURCE_EDIT_CAPS = (Cap.RESEARCH_WRITE, Cap.ORG_CONFIGURE)
SOURCE_VIEW_CAPS = (*SOURCE_EDIT_CAPS, Cap.RESEARCH_REVIEW)
RISK_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}


def has_any(user: Any, caps: tuple[str, ...]) -> bool:
    return bool(user and user.is_authenticated and any(user.has_cap(c) for c in caps))


def can_read(user: Any) -> bool:
    return has_any(user, READ_CAPS)


def can_push(user: Any) -> bool:
    return has_any(user, PUSH_CAPS)


def can_edit_sources(user: Any) -> bool:
    return has_any(user, SOURCE_EDIT_CAPS)


def can_view_sources(user: Any) -> bool:
    return has_any(user, SOURCE_VIEW_CAPS)


def _branch_q(user: Any, caps: tuple[str, ...], *, field: str = "branch") -> Q | None:
    """Rows of company-wide scope (``field`` empty) or within the viewer's scope for any of ``caps``."""
    q: Q | None = None
    for cap in caps:
        cq = scope_q(user, cap, branch_field=field, owner_field=None)
        if cq is not None:
            q = cq if q is None else q | cq
    if q is None:
        return None
    return q | Q(**{f"{field}__isnull": True})


def client_max_risk(client: Client) -> int:
    """The highest product risk rank (1–5) suitable for ``client``; no risk level → 1."""
    level = client.risk_level or ""
    if not level:
        return 1
    return int(level[1:])


def allowed_ratings(max_rank: int) -> list[str]:
    return [r for r, n in RISK_RANK.items() if n <= max_rank]


def valid_source_q(today: dt.date | None = None, *, prefix: str = "source__") -> Q:
    """Sources whose research may be delivered on ``today`` (mirrors ``ResearchSource.is_valid_on``)."""
    today = today or timezone.localdate()
    p = prefix
    external_ok = (
        Q(**{f"{p}kind": ResearchSource.Kind.EXTERNAL})
        & ~Q(**{f"{p}licence_no": ""})
        & (Q(**{f"{p}contract_start__isnull": True}) | Q(**{f"{p}contract_start__lte": today}))
        & (Q(**{f"{p}contract_end__isnull": True}) | Q(**{f"{p}contract_end__gte": today}))
        & ~Q(**{f"{p}contract_start__isnull": True, f"{p}contract_end__isnull": True})
    )
    return Q(**{f"{p}active": True}) & (~Q(**{f"{p}kind": ResearchSource.Kind.EXTERNAL}) | external_ok)


def live_q(today: dt.date | None = None) -> Q:
    """Published and not past its expiry date."""
    today = today or timezone.localdate()
    return Q(state=S.PUBLISHED) & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))


# --- sources -----------------------------------------------------------------------------------------------


def source_list(*, viewer: Any) -> QuerySet[ResearchSource]:
    q = _branch_q(viewer, SOURCE_VIEW_CAPS + READ_CAPS)
    if q is None or not can_read(viewer) and not can_view_sources(viewer):
        return ResearchSource.objects.none()
    return ResearchSource.objects.filter(q).select_related("branch").order_by("kind", "name")


def source_get_for(*, viewer: Any, pk: Any) -> ResearchSource:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    source = source_list(viewer=viewer).filter(pk=pk_int).first()
    if source is None:
        raise Http404
    return source


def writable_sources(*, viewer: Any) -> QuerySet[ResearchSource]:
    """Sources a researcher may publish under: active ones of their scope or company-wide."""
    q = _branch_q(viewer, (Cap.RESEARCH_WRITE,))
    if q is None:
        return ResearchSource.objects.none()
    return ResearchSource.objects.filter(q, active=True).order_by("kind", "name")


# --- items -------------------------------------------------------------------------------------------------


def item_base_qs(*, viewer: Any) -> QuerySet[ResearchItem]:
    """Every item ``viewer`` may read (scope and state rules of the module docstring)."""
    if not can_read(viewer):
        return ResearchItem.objects.none()
    q = _branch_q(viewer, READ_CAPS)
    if q is None:
        return ResearchItem.objects.none()
    states = [S.PUBLISHED, S.WITHDRAWN, S.EXPIRED]
    if viewer.has_cap(Cap.RESEARCH_REVIEW):
        states.append(S.REVIEW)
    if viewer.has_cap(Cap.RESEARCH_WRITE):
        states += [S.REVIEW, S.DRAFT]
    return ResearchItem.objects.filter(q, state__in=set(states))


@dataclass
class ItemFilters:
    q: str = ""
    kind: str = ""
    source: int | None = None
    state: str = ""
    security: str = ""
    industry: str = ""
    risk: str = ""
    mine: bool = False

    @classmethod
    def from_params(cls, params: Any) -> ItemFilters:
        def _int(name: str) -> int | None:
            v = (params.get(name) or "").strip()
            return int(v) if v.isascii() and v.isdigit() and len(v) < 18 else None

        def _choice(name: str, values: list[str]) -> str:
            v = params.get(name) or ""
            return v if v in values else ""

        return cls(
            q=(params.get("q") or params.get("search") or "").replace("\x00", "").strip()[:100],
            kind=_choice("kind", ResearchItem.Kind.values),
            source=_int("source"),
            state=_choice("state", ResearchItem.State.values),
            security=(params.get("security") or "").strip()[:12],
            industry=(params.get("industry") or "").replace("|", "").strip()[:30],
            risk=_choice("risk", list(RISK_RANK)),
            mine=(params.get("mine") or "") in {"1", "true", "on"},
        )


def item_list(*, viewer: Any, filters: ItemFilters | None = None) -> QuerySet[ResearchItem]:
    """Items the viewer may read, filtered, newest first, with source/author/security joined in."""
    f = filters or ItemFilters()
    qs = item_base_qs(viewer=viewer).select_related("source", "author", "security")
    if f.q:
        qs = apply_search(qs, f.q)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.source:
        qs = qs.filter(source_id=f.source)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.security:
        code = f.security.split(".")[0]
        qs = qs.filter(Q(security__code=code) | Q(securities__code=code)).distinct()
    if f.industry:
        qs = qs.filter(industry_tags__contains=f"|{f.industry}|")
    if f.risk:
        qs = qs.filter(risk_rating=f.risk)
    if f.mine:
        qs = qs.filter(author=viewer)
    return qs.order_by("-published_at", "-created_at", "-pk")


def item_get_for(*, viewer: Any, pk: Any) -> ResearchItem:
    """One item ``viewer`` may read; ``Http404`` otherwise (outside scope, state or capabilities)."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    item = (
        item_base_qs(viewer=viewer)
        .select_related("source", "author", "security", "reviewed_by")
        .filter(pk=pk_int)
        .first()
    )
    if item is None:
        raise Http404
    return item


def review_queue(*, viewer: Any) -> QuerySet[ResearchItem]:
    if not viewer.has_cap(Cap.RESEARCH_REVIEW):
        return ResearchItem.objects.none()
    return (
        item_base_qs(viewer=viewer)
        .filter(state=S.REVIEW)
        .select_related("source", "author", "security")
        .order_by("submitted_at", "pk")
    )


def citable_items(*, viewer: Any, q: str = "", limit: int = 20) -> list[ResearchItem]:
    """Published, live items from currently valid sources the viewer may read, for citing in
    consultation advice (publisher and publish date come with the item, Art. 18); ``q`` searches
    titles and bodies."""
    qs = item_base_qs(viewer=viewer).filter(live_q(), valid_source_q()).select_related("source", "security")
    if q:
        qs = apply_search(qs, q)
    return list(qs.order_by("-published_at", "-pk")[: max(1, min(limit, 100))])


def latest_published(*, viewer: Any, limit: int = 5) -> list[ResearchItem]:
    return list(
        item_base_qs(viewer=viewer)
        .filter(live_q())
        .select_related("source", "security")
        .order_by("-published_at", "-pk")[:limit]
    )


# --- personalisation ---------------------------------------------------------------------------------------


def _client_interest(client: Client) -> tuple[set[int], set[str]]:
    """The securities the client holds and their industries (one query)."""
    rows = Holding.objects.filter(client=client, quantity__gt=0).values_list(
        "security_id", "security__industry"
    )
    securities = {sid for sid, _ in rows}
    industries = {ind for _, ind in rows if ind}
    return securities, industries


def research_for_client(*, client: Client, since: Any = None, limit: int = 20) -> list[ResearchItem]:
    """Published, non-expired items from sources valid today that concern the client's holdings
    (the same securities — recommended or tagged — or the industries of held securities) and whose
    risk rating is within the client's risk level (see module docstring). Items of another branch's
    own sources are not included. Three queries (holdings, items, the M2M prefetch is not used)."""
    securities, industries = _client_interest(client)
    if not securities and not industries:
        return []
    relevant = Q()
    if securities:
        relevant |= Q(security_id__in=securities) | Q(securities__in=securities)
    for ind in sorted(industries)[:30]:
        relevant |= Q(industry_tags__contains=f"|{ind}|")
    qs = ResearchItem.objects.filter(
        live_q(),
        valid_source_q(),
        Q(branch__isnull=True) | Q(branch_id=client.branch_id),
        risk_rating__in=allowed_ratings(client_max_risk(client)),
    ).filter(relevant)
    if since is not None:
        if isinstance(since, dt.datetime):
            qs = qs.filter(published_at__gte=since)
        else:
            qs = qs.filter(published_on__gte=since)
    ids = list(qs.values_list("pk", flat=True).distinct()[: max(limit * 3, 60)])
    return list(
        ResearchItem.objects.filter(pk__in=ids)
        .select_related("source", "security", "author")
        .order_by("-published_at", "-pk")[:limit]
    )


# --- pushes and deliveries ---------------------------------------------------------------------------------


def push_list(*, viewer: Any) -> QuerySet[ResearchPush]:
    if not can_push(viewer) and not viewer.has_cap(Cap.RESEARCH_REVIEW):
        return ResearchPush.objects.none()
    q = _branch_q(viewer, PUSH_CAPS + (Cap.RESEARCH_REVIEW,))
    if q is None:
        return ResearchPush.objects.none()
    qs = ResearchPush.objects.filter(q).select_related("item", "created_by")
    # Managers and brokers (own-client scope) see their own pushes; the others the branch's.
    if not any(viewer.scope_for(c) in ("branch", "company") for c in PUSH_CAPS + (Cap.RESEARCH_REVIEW,)):
        qs = qs.filter(created_by=viewer)
    return qs.order_by("-created_at", "-pk")


def push_get_for(*, viewer: Any, pk: Any) -> ResearchPush:
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    push = push_list(viewer=viewer).filter(pk=pk_int).first()
    if push is None:
        raise Http404
    return push


def deliveries_for_push(*, push: ResearchPush) -> QuerySet[ResearchDelivery]:
    return push.deliveries.select_related("client", "owner").order_by(
        "status", "client__client_no", "channel"
    )


def my_delivery_tasks(*, user: Any, limit: int = 50) -> list[ResearchDelivery]:
    """Pending "deliver in person" tasks owned by ``user``."""
    return list(
        ResearchDelivery.objects.filter(owner=user, status=ResearchDelivery.Status.PENDING)
        .select_related("item", "client")
        .order_by("created_at", "pk")[:limit]
    )


def deliveries_for_client(*, client: Client, viewer: Any, limit: int = 20) -> list[ResearchDelivery]:
    if not can_read(viewer):
        return []
    return list(
        ResearchDelivery.objects.filter(client=client)
        .select_related("item", "delivered_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def audience_clients(*, viewer: Any, audience: dict[str, Any]) -> QuerySet[Client]:
    """The clients an audience spec selects, within the pusher's client scope. Spec keys: ``kind``
    (holders / tier / premium / manager / clients), ``security`` (id), ``tier``, ``manager`` (id),
    ``clients`` (ids)."""
    qs = client_base_qs(viewer=viewer, capability=Cap.CLIENTS_VIEW).filter(status=Client.Status.ACTIVE)
    kind = audience.get("kind")
    if kind == "holders":
        qs = qs.filter(holdings__security_id=int(audience.get("security") or 0), holdings__quantity__gt=0)
    elif kind == "tier":
        qs = qs.filter(tier=audience.get("tier"))
    elif kind == "premium":
        qs = qs.filter(is_premium=True)
    elif kind == "manager":
        qs = qs.filter(manager_id=audience.get("manager"))
    elif kind == "clients":
        qs = qs.filter(pk__in=[int(x) for x in audience.get("clients") or [] if str(x).isdigit()])
    else:
        return qs.none()
    return qs.distinct().order_by("client_no")
