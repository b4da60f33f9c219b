"""推荐绩效 reads, always scoped to the viewer. The league table aggregates the outcome table only (one
``GROUP BY`` per grouping); the price path of a single recommendation reads that one security's and the
benchmark's closes.

Visibility follows the research items: company-wide research (no branch) and research of the branches in
which the viewer holds a research-reading capability. A recommendation outside that is a 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from branchcare.clients.models import Price
from branchcare.org.capabilities import Cap
from branchcare.org.scope import scope_q

from . import calc
from .models import RecommendationOutcome
from .services import benchmark_security, trading_days

#: Capabilities that let a user read research and so its performance (the navigation uses the same).
READ_CAPS = (
    Cap.RESEARCH_WRITE,
    Cap.RESEARCH_REVIEW,
    Cap.ADVICE_WRITE,
    Cap.PREMIUM_SERVE,
    Cap.ONSITE_SERVE,
    Cap.SUPERVISE,
)
RO = RecommendationOutcome


def can_read(user: Any) -> bool:
    return bool(user and user.is_authenticated and any(user.has_cap(c) for c in READ_CAPS))


def _visible_q(viewer: Any) -> Q | None:
    """Company-wide research (no branch) plus the branches in the viewer's scope for any reading
    capability — the same rule as the research items themselves."""
    if not can_read(viewer):
        return None
    q: Q | None = None
    for cap in READ_CAPS:
        cq = scope_q(viewer, cap, branch_field="branch", owner_field=None)
        if cq is not None:
            q = cq if q is None else q | cq
    if q is None:
        return None
    return q | Q(branch__isnull=True)


def outcomes_for(*, viewer: Any) -> QuerySet[RecommendationOutcome]:
    q = _visible_q(viewer)
    if q is None:
        return RO.objects.none()
    return RO.objects.filter(q)


@dataclass(frozen=True)
class LeagueFilters:
    since: dt.date | None = None
    until: dt.date | None = None
    author: int | None = None
    source: int | None = None

    @classmethod
    def from_params(cls, params: Any, *, today: dt.date) -> LeagueFilters:
        def date(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(params.get(name) or "")
            except ValueError:
                return None

        def integer(name: str) -> int | None:
            try:
                return int(params.get(name) or "")
            except ValueError:
                return None

        period = params.get("period") or ""
        since = date("since")
        if since is None and period in PERIODS and PERIODS[period]:
            since = today - dt.timedelta(days=PERIODS[period])
        return cls(since=since, until=date("until"), author=integer("author"), source=integer("source"))

    def apply(self, qs: QuerySet[RecommendationOutcome]) -> QuerySet[RecommendationOutcome]:
        if self.since:
            qs = qs.filter(published_on__gte=self.since)
        if self.until:
            qs = qs.filter(published_on__lte=self.until)
        if self.author:
            qs = qs.filter(author_id=self.author)
        if self.source:
            qs = qs.filter(source_id=self.source)
        return qs


#: Period choices of the league page: key -> days back (0: all).
PERIODS = {"3m": 92, "6m": 183, "1y": 366, "all": 0}

SORTS = {
    "count": "count",
    "hit_rate": "hit_rate",
    "excess_5": "avg_excess_5",
    "excess_20": "avg_excess_20",
    "excess_60": "avg_excess_60",
    "name": "name",
}


@dataclass
class LeagueRow:
    key: int | None
    name: str
    count: int
    evaluated: int
    decided: int
    hits: int
    stops: int
    avg_excess_5: Decimal | None
    avg_excess_20: Decimal | None
    avg_excess_60: Decimal | None

    @property
    def hit_rate(self) -> Decimal | None:
        """Target reached before the stop-loss ÷ recommendations whose result is decided, in %."""
        if not self.decided:
            return None
        return Decimal(self.hits * 100) / Decimal(self.decided)

    def pct(self, name: str) -> Decimal | None:
        value = getattr(self, name)
        return None if value is None else Decimal(value) * 100


def _aggregates() -> dict[str, Any]:
    decided = Q(result__in=[RO.Result.TARGET, RO.Result.STOP, RO.Result.EXPIRED])
    return {
        "count": Count("id"),
        "evaluated": Count("id", filter=~Q(status=RO.Status.PENDING)),
        "decided": Count("id", filter=decided),
        "hits": Count("id", filter=Q(result=RO.Result.TARGET)),
        "stops": Count("id", filter=Q(result=RO.Result.STOP)),
        "avg_excess_5": Avg("excess_return_5"),
        "avg_excess_20": Avg("excess_return_20"),
        "avg_excess_60": Avg("excess_return_60"),
    }


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _sorted(rows: list[LeagueRow], sort: str) -> list[LeagueRow]:
    desc = not sort.startswith("-")  # default: best first; "-x" reverses
    key = SORTS.get(sort.lstrip("-"), "avg_excess_20")
    if key == "name":
        return sorted(rows, key=lambda r: r.name, reverse=not desc)
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.count), reverse=desc)
    return present + sorted(missing, key=lambda r: r.name)


def league(
    *, viewer: Any, by: str, filters: LeagueFilters | None = None, sort: str = "excess_20"
) -> list[LeagueRow]:
    """The league table per analyst (``by="author"``) or per source (``by="source"``): count, evaluated,
    decided, target hits, stop-losses, hit rate and average excess return at 5/20/60 trading days — one
    grouped query over the outcome table."""
    qs = (filters or LeagueFilters()).apply(outcomes_for(viewer=viewer))
    fields: tuple[str, ...]
    if by == "author":
        fields = ("author_id", "author__name", "author__username")
    elif by == "source":
        fields = ("source_id", "source__name")
    else:
        raise ValueError(by)
    rows = []
    for r in qs.order_by().values(*fields).annotate(**_aggregates()):
        if by == "author":
            name = r["author__name"] or r["author__username"] or str(_("（未署名）"))
        else:
            name = r["source__name"]
        rows.append(
            LeagueRow(
                key=r[fields[0]],
                name=name,
                count=r["count"],
                evaluated=r["evaluated"],
                decided=r["decided"],
                hits=r["hits"],
                stops=r["stops"],
                avg_excess_5=_dec(r["avg_excess_5"]),
                avg_excess_20=_dec(r["avg_excess_20"]),
                avg_excess_60=_dec(r["avg_excess_60"]),
            )
        )
    return _sorted(rows, sort)


def league_totals(*, viewer: Any, filters: LeagueFilters | None = None) -> LeagueRow:
    """The same figures over every visible recommendation (one query)."""
    qs = (filters or LeagueFilters()).apply(outcomes_for(viewer=viewer))
    r = qs.order_by().aggregate(**_aggregates(), computed=Max("computed_at"), through=Max("data_through"))
    row = LeagueRow(
        key=None,
        name="",
        count=r["count"],
        evaluated=r["evaluated"],
        decided=r["decided"],
        hits=r["hits"],
        stops=r["stops"],
        avg_excess_5=_dec(r["avg_excess_5"]),
        avg_excess_20=_dec(r["avg_excess_20"]),
        avg_excess_60=_dec(r["avg_excess_60"]),
    )
    row.computed_at = r["computed"]  # type: ignore[attr-defined]
    row.data_through = r["through"]  # type: ignore[attr-defined]
    return row


def outcome_list(*, viewer: Any, filters: LeagueFilters | None = None) -> QuerySet[RecommendationOutcome]:
    """Visible outcomes, newest publication first, with what a list row shows joined in."""
    return (
        (filters or LeagueFilters())
        .apply(outcomes_for(viewer=viewer))
        .select_related("item", "security", "author", "source")
        .order_by("-published_on", "-item_id")
    )


def outcome_get_for(*, viewer: Any, item_id: Any) -> RecommendationOutcome:
    """The outcome of recommendation ``item_id`` if the viewer may see it; ``Http404`` otherwise."""
    try:
        pk = int(item_id)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = outcome_list(viewer=viewer).filter(item_id=pk).first()
    if obj is None:
        raise Http404
    return obj


def outcome_price_path(
    outcome: RecommendationOutcome, *, days: int = 60
) -> list[tuple[dt.date, float, float]]:
    """The cumulative % change of the security and of the benchmark from the entry, per trading day
    (two queries: the security's and the benchmark's closes in the window)."""
    bench = benchmark_security()
    if outcome.entry_date is None or bench is None:
        return []
    start = outcome.entry_date - dt.timedelta(days=15)
    end = outcome.entry_date + dt.timedelta(days=days * 2 + 30)
    closes = dict(
        Price.objects.filter(security_id=outcome.security_id, date__range=(start, end)).values_list(
            "date", "close"
        )
    )
    bench_closes = dict(
        Price.objects.filter(security_id=bench.pk, date__range=(start, end)).values_list("date", "close")
    )
    last = max([*closes, *bench_closes], default=outcome.entry_date)
    days_list = trading_days(outcome.entry_date, last, fallback=sorted(bench_closes))
    return calc.price_path(
        entry_date=outcome.entry_date, trading_days=days_list, closes=closes, bench=bench_closes, days=days
    )
