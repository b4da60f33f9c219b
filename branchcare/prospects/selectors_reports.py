"""Development reports, scoped to the viewer (owners: their own prospects and the pool; the director: the
branch): the funnel by source and by segment, conversion rate and median time to convert, the partner
league table and owner performance. A fixed, small number of aggregate queries whatever the data size.

The period selects prospects by when they were registered (a cohort): a prospect registered in the
period counts at every funnel stage it has reached since.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.org.models import User

from .models import Partner, Prospect
from .selectors import prospect_base_qs
from .workflows import FUNNEL, RANK

St = Prospect.Stage
PERIODS = {
    "30d": gettext_lazy("近30天"),
    "month": gettext_lazy("本月"),
    "quarter": gettext_lazy("本季度"),
    "year": gettext_lazy("本年"),
    "all": gettext_lazy("全部"),
}
WAN = Decimal("10000")


@dataclass
class Period:
    key: str
    start: dt.date | None
    end: dt.date

    @property
    def label(self) -> str:
        return str(PERIODS[self.key])


def period_for(key: str | None, today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    key = key if key in PERIODS else "30d"
    if key == "30d":
        start: dt.date | None = today - dt.timedelta(days=29)
    elif key == "month":
        start = today.replace(day=1)
    elif key == "quarter":
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    elif key == "year":
        start = today.replace(month=1, day=1)
    else:
        start = None
    return Period(key=key, start=start, end=today)


def cohort(*, viewer: Any, period: Period) -> QuerySet[Prospect]:
    qs = prospect_base_qs(viewer=viewer)
    tz = timezone.get_current_timezone()
    if period.start:
        qs = qs.filter(created_at__gte=dt.datetime.combine(period.start, dt.time.min, tzinfo=tz))
    return qs.filter(
        created_at__lt=dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    )


def _reach_counts() -> dict[str, Count]:
    """Count per funnel stage of the prospects that reached it."""
    return {s: Count("pk", filter=Q(reached__gte=RANK[s])) for s in FUNNEL}


def funnel_by(qs: QuerySet[Prospect], field: str, choices) -> list[dict[str, Any]]:
    """One row per value of ``field`` (source or segment): counts per stage reached (one query)."""
    data = {
        row[field]: row
        for row in qs.values(field)
        .annotate(**_reach_counts(), lost=Count("pk", filter=Q(stage=St.LOST)))
        .order_by()
    }
    rows = []
    for value, label in choices:
        row = data.get(value, {})
        rows.append({"key": value, "label": str(label), "counts": [row.get(s, 0) for s in FUNNEL],
                     "lost": row.get("lost", 0)})  # fmt: skip
    return rows


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 2) if whole else None


def conversion(qs: QuerySet[Prospect]) -> dict[str, Any]:
    """Registered, converted, conversion rate (%) and the median days from registration to account (2 queries)."""
    totals = qs.aggregate(total=Count("pk"), converted=Count("pk", filter=Q(client__isnull=False)))
    pairs = qs.filter(converted_at__isnull=False).values_list("created_at", "converted_at")
    days = [(b - a).total_seconds() / 86400 for a, b in pairs if a and b]
    return {
        "total": totals["total"],
        "converted": totals["converted"],
        "rate": _rate(totals["converted"], totals["total"]),
        "median_days": round(statistics.median(days), 1) if days else None,
    }


def partner_league(
    *, viewer: Any, partners: list[Partner] | None = None, period: Period | None = None
) -> list[dict[str, Any]]:
    """Per partner: referrals, accounts opened, assets brought (万元) and the agreed commission rate,
    best first (accounts, then assets). Two queries (one when ``partners`` is given)."""
    qs = cohort(viewer=viewer, period=period) if period else prospect_base_qs(viewer=viewer)
    stats = {
        row["partner"]: row
        for row in qs.filter(partner__isnull=False)
        .values("partner")
        .annotate(
            referrals=Count("pk"),
            opened=Count("pk", filter=Q(client__isnull=False)),
            funded=Count("pk", filter=Q(reached__gte=RANK[St.FUNDED])),
            assets=Sum("client__total_assets", filter=Q(client__isnull=False)),
        )
        .order_by()
    }
    if partners is None:
        from .selectors import partner_base_qs

        partners = list(partner_base_qs(viewer=viewer).filter(Q(pk__in=list(stats)) | Q(active=True)))
    rows = []
    for p in partners:
        s = stats.get(p.pk, {})
        assets = s.get("assets") or Decimal("0")
        rows.append({
            "partner": p,
            "referrals": s.get("referrals", 0),
            "opened": s.get("opened", 0),
            "funded": s.get("funded", 0),
            "assets_wan": (assets / WAN).quantize(Decimal("0.01")),
            "rate": _rate(s.get("opened", 0), s.get("referrals", 0)),
            "commission": p.offered_rate,
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["opened"], -r["assets_wan"], -r["referrals"], r["partner"].name))
    return rows


def owner_performance(qs: QuerySet[Prospect]) -> list[dict[str, Any]]:
    """Per owner (the credited owner for converted prospects): prospects, contacted, accounts opened,
    funded, assets brought (万元), overdue follow-ups. Two queries."""
    today = timezone.localdate()
    grouped = (
        qs.filter(owner__isnull=False)
        .values("owner")
        .annotate(
            total=Count("pk"),
            contacted=Count("pk", filter=Q(reached__gte=RANK[St.CONTACTED])),
            opened=Count("pk", filter=Q(client__isnull=False)),
            funded=Count("pk", filter=Q(reached__gte=RANK[St.FUNDED])),
            assets=Sum("client__total_assets", filter=Q(client__isnull=False)),
            overdue=Count(
                "pk", filter=Q(stage__in=[St.LEAD, St.CONTACTED, St.VISITED], next_follow_up_due__lt=today)
            ),
        )
        .order_by()
    )
    rows = list(grouped)
    users = {u.pk: u for u in User.objects.filter(pk__in=[r["owner"] for r in rows])}
    out = []
    for r in rows:
        assets = r["assets"] or Decimal("0")
        out.append({**r, "user": users.get(r["owner"]), "assets_wan": (assets / WAN).quantize(Decimal("0.01")),
                    "rate": _rate(r["opened"], r["total"])})  # fmt: skip
    out.sort(key=lambda r: (-r["opened"], -r["total"], str(r["user"])))
    return out


def report(*, viewer: Any, period: Period) -> dict[str, Any]:
    """Everything the reports page and the API show (8 queries)."""
    qs = cohort(viewer=viewer, period=period)
    stage_labels = [str(dict(St.choices)[s]) for s in FUNNEL]
    by_source = funnel_by(qs, "source", Prospect.Source.choices)
    by_segment = funnel_by(qs, "segment", Prospect.Segment.choices)
    overall = [sum(r["counts"][i] for r in by_source) for i in range(len(FUNNEL))]
    return {
        "period": period,
        "stages": stage_labels,
        "stage_keys": list(FUNNEL),
        "overall": overall,
        "by_source": by_source,
        "by_segment": by_segment,
        "conversion": conversion(qs),
        "partners": partner_league(viewer=viewer, period=period),
        "owners": owner_performance(qs),
    }


def chart_data(rep: dict[str, Any], *, urls: dict[str, str]) -> dict[str, Any]:
    """The JSON the charts script reads (json_script): labels, series and the list URL behind each bar."""
    return {
        "stages": rep["stages"],
        "stage_keys": rep["stage_keys"],
        "overall": rep["overall"],
        "titles": {
            "funnel": _("开发漏斗"),
            "source": _("按来源"),
            "segment": _("按客户类型"),
            "partners": _("合作伙伴业绩"),
        },
        "by_source": [{"key": r["key"], "name": r["label"], "data": r["counts"]} for r in rep["by_source"]],
        "by_segment": [{"key": r["key"], "name": r["label"], "data": r["counts"]} for r in rep["by_segment"]],
        "partners": {
            "names": [r["partner"].name for r in rep["partners"]],
            "ids": [r["partner"].pk for r in rep["partners"]],
            "referrals": [r["referrals"] for r in rep["partners"]],
            "opened": [r["opened"] for r in rep["partners"]],
            "assets": [float(r["assets_wan"]) for r in rep["partners"]],
            "labels": {"referrals": _("推荐人数"), "opened": _("开户数"), "assets": _("带来资产（万元）")},
        },
        "urls": urls,
    }
