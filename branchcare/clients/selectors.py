"""Reads of clients and holdings, always scoped to the viewer through ``org.scope``."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from branchcare.org.capabilities import Cap, Scope
from branchcare.org.scope import scope_q

from .models import Client, Holding, Price

SORTS = {
    "client_no": ("client_no",),
    "-client_no": ("-client_no",),
    "name": ("name_initials", "client_no"),
    "-name": ("-name_initials", "-client_no"),
    "assets": ("total_assets", "client_no"),
    "-assets": ("-total_assets", "client_no"),
    "opened_on": ("opened_on", "client_no"),
    "-opened_on": ("-opened_on", "client_no"),
    "assessed_on": ("risk_assessed_on", "client_no"),
    "-assessed_on": ("-risk_assessed_on", "client_no"),
}

_HIGH = "\U0010ffff"


@dataclass
class ClientFilters:
    q: str = ""
    tier: str = ""
    risk_level: str = ""
    manager: int | None = None
    premium: bool | None = None
    status: str = ""
    assessment_expired: bool | None = None
    branch: int | None = None
    sort: str = "client_no"

    @classmethod
    def from_params(cls, params: Any) -> ClientFilters:
        """Build filters from request GET/query params; unknown or malformed values are ignored."""

        def _bool(name: str) -> bool | None:
            v = (params.get(name) or "").strip().lower()
            if v in {"1", "true", "yes", "on"}:
                return True
            if v in {"0", "false", "no", "off"}:
                return False
            return None

        def _int(name: str) -> int | None:
            v = (params.get(name) or "").strip()
            return int(v) if v.isascii() and v.isdigit() and len(v) < 18 else None

        sort = params.get("sort") or "client_no"
        return cls(
            q=(params.get("q") or "").replace("\x00", "").strip()[:50],
            tier=params.get("tier") if params.get("tier") in Client.Tier.values else "",
            risk_level=params.get("risk_level")
            if params.get("risk_level") in Client.RiskLevel.values
            else "",
            manager=_int("manager"),
            premium=_bool("premium"),
            status=params.get("status") if params.get("status") in Client.Status.values else "",
            assessment_expired=_bool("assessment_expired"),
            branch=_int("branch"),
            sort=sort if sort in SORTS else "client_no",
        )


def normalise_query(q: str) -> str:
    """Full-width to half-width, trimmed, lower-cased (for pinyin)."""
    return unicodedata.normalize("NFKC", q).strip()


def _prefix(field: str, value: str) -> Q:
    # A range rather than LIKE: uses the B-tree index on SQLite and on PostgreSQL whatever the collation.
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + _HIGH})


def search_q(q: str) -> Q:
    """How the search box matches: client_no prefix, last 4 phone digits, pinyin initials or full
    pinyin prefix (``zs`` / ``zhangs`` finds 张三), or a name prefix in characters."""
    q = normalise_query(q)
    if not q:
        return Q()
    if q.isdigit():
        cond = _prefix("client_no", q)
        if len(q) == 4:
            cond |= Q(phone_tail=q)
        return cond
    if re.fullmatch(r"[A-Za-z]+", q):
        low = q.lower()
        return _prefix("name_initials", low) | _prefix("name_pinyin", low) | _prefix("client_no", q.upper())
    return _prefix("name", q) | Q(client_no=q)


def client_base_qs(*, viewer, capability: str = Cap.CLIENTS_VIEW) -> QuerySet[Client]:
    """The clients ``viewer`` may reach with ``capability``: the role's data scope, and for premium
    brokers with an own/team scope also the premium clients whose dedicated broker they are."""
    q = scope_q(viewer, capability)
    if q is None:
        return Client.objects.none()
    if (
        viewer.branch_id
        and viewer.scope_for(capability) in (Scope.OWN, Scope.TEAM)
        and viewer.has_cap(Cap.PREMIUM_SERVE)
    ):
        q |= Q(branch_id=viewer.branch_id, broker_id=viewer.pk)
    return Client.objects.filter(q)


def client_list(*, viewer, filters: ClientFilters | None = None) -> QuerySet[Client]:
    """The clients ``viewer`` may see, filtered and sorted; manager and branch joined in."""
    f = filters or ClientFilters()
    qs = client_base_qs(viewer=viewer).select_related("manager", "branch")
    if f.q:
        qs = qs.filter(search_q(f.q))
    if f.tier:
        qs = qs.filter(tier=f.tier)
    if f.risk_level:
        qs = qs.filter(risk_level=f.risk_level)
    if f.manager:
        qs = qs.filter(manager_id=f.manager)
    if f.premium is not None:
        qs = qs.filter(is_premium=f.premium)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.branch:
        qs = qs.filter(branch_id=f.branch)
    if f.assessment_expired is not None:
        cutoff = timezone.localdate() - dt.timedelta(days=settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"])
        expired = Q(risk_assessed_on__lt=cutoff) | Q(risk_assessed_on__isnull=True)
        qs = qs.filter(expired) if f.assessment_expired else qs.exclude(expired)
    return qs.order_by(*SORTS[f.sort])


def client_get_for(*, viewer, pk: Any, capability: str = Cap.CLIENTS_VIEW) -> Client:
    """One client the viewer may see with ``capability``; ``Http404`` otherwise (as if it did not exist)."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    client = (
        client_base_qs(viewer=viewer, capability=capability)
        .select_related("manager", "broker", "branch", "seat__room")
        .filter(pk=pk_int)
        .first()
    )
    if client is None:
        raise Http404
    return client


def count_capped(qs: QuerySet, cap: int = 10_000) -> tuple[int, bool]:
    """``(count, capped)``: an exact count up to ``cap`` rows; beyond it, ``cap`` and True.
    Counting a million rows on every page view costs more than the page itself."""
    n = qs.order_by()[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


@dataclass
class HoldingRow:
    holding: Holding
    price: Decimal | None
    price_date: dt.date | None

    @property
    def cost_value(self) -> Decimal:
        return self.holding.cost_price * self.holding.quantity

    @property
    def market_value(self) -> Decimal | None:
        return None if self.price is None else self.price * self.holding.quantity

    @property
    def pnl(self) -> Decimal | None:
        mv = self.market_value
        return None if mv is None else mv - self.cost_value

    @property
    def pnl_pct(self) -> Decimal | None:
        pnl = self.pnl
        if pnl is None or not self.cost_value:
            return None
        return pnl * 100 / self.cost_value


@dataclass
class HoldingsTotals:
    market_value: Decimal
    pnl: Decimal | None  # over the positions with a known price only


def holdings_totals(rows: list[HoldingRow]) -> HoldingsTotals:
    """Market value and floating P/L of the priced positions (an unpriced position counts in neither,
    so a missing close never shows as a loss)."""
    market = Decimal(0)
    pnl = Decimal(0)
    priced = False
    for r in rows:
        if r.market_value is not None and r.pnl is not None:
            market += r.market_value
            pnl += r.pnl
            priced = True
    return HoldingsTotals(market_value=market, pnl=pnl if priced else None)


def holdings_for(*, client: Client) -> list[HoldingRow]:
    """The client's positions with the latest known close, market value and P/L (one query)."""
    latest = Price.objects.filter(security_id=OuterRef("security_id")).order_by("-date")
    rows = (
        Holding.objects.filter(client=client)
        .select_related("security")
        .annotate(
            last_close=Subquery(latest.values("close")[:1]), last_date=Subquery(latest.values("date")[:1])
        )
        .order_by("security__code")
    )
    return [HoldingRow(h, h.last_close, h.last_date) for h in rows]  # type: ignore[attr-defined]
