"""高端服务看板: per broker, request volume, first-response and resolution times against the branch's 24×7
targets, satisfaction; and for the branch, the premium clients' commission-rate uplift and retention.

A fixed number of queries whatever the volume: one for the period's requests, one for the branch's
enrolments, one for the brokers (plus the settings row). The premium book of a branch is small (tens
to hundreds of clients, a few requests a day each), so the figures are computed from those rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import mean
from typing import Any

from django.http import Http404
from django.utils import timezone

from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch
from branchcare.org.scope import branches_for

from . import desk_sla
from .models import Enrolment, PremiumRequest
from .services import brokers_of, targets_for
from .workflows import OPEN_STATES

PERIOD_DAYS = 30
MONTHS = 12


@dataclass
class BrokerRow:
    broker: Any
    received: int = 0
    open: int = 0
    escalated: int = 0
    responded: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    first_minutes: list[float] = field(default_factory=list)
    resolution_hours: list[float] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    clients: int = 0

    @property
    def avg_first_minutes(self) -> float | None:
        return round(mean(self.first_minutes), 1) if self.first_minutes else None

    @property
    def avg_resolution_hours(self) -> float | None:
        return round(mean(self.resolution_hours), 2) if self.resolution_hours else None

    @property
    def first_rate(self) -> float | None:
        return round(self.responded_in_time * 100 / self.responded, 2) if self.responded else None

    @property
    def resolution_rate(self) -> float | None:
        return round(self.resolved_in_time * 100 / self.resolved, 2) if self.resolved else None

    @property
    def satisfaction(self) -> float | None:
        return round(mean(self.scores), 2) if self.scores else None


@dataclass
class MonthRow:
    month: dt.date  # first day
    active: int
    joined: int
    exited: int


@dataclass
class Dashboard:
    branch: Branch
    since: dt.datetime
    first_target_minutes: float
    resolution_target_hours: float
    brokers: list[BrokerRow]
    months: list[MonthRow]
    active_clients: int
    avg_premium_rate: Decimal | None
    avg_previous_rate: Decimal | None
    avg_uplift: Decimal | None
    satisfaction_counts: dict[int, int]

    @property
    def totals(self) -> BrokerRow:
        t = BrokerRow(broker=None)
        for r in self.brokers:
            for name in (
                "received",
                "open",
                "escalated",
                "responded",
                "responded_in_time",
                "resolved",
                "resolved_in_time",
                "clients",
            ):
                setattr(t, name, getattr(t, name) + getattr(r, name))
            t.first_minutes += r.first_minutes
            t.resolution_hours += r.resolution_hours
            t.scores += r.scores
        return t


def dashboard_branch_for(*, viewer: Any, branch_id: Any = None) -> Branch:
    """The branch to show: the viewer's own, or (company scope) a chosen one; 404 outside scope."""
    allowed = branches_for(viewer, Cap.SUPERVISE)
    if branch_id:
        try:
            found = allowed.filter(pk=int(branch_id)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise Http404
        return found
    own = allowed.filter(pk=viewer.branch_id).first() or allowed.order_by("pk").first()
    if own is None:
        raise Http404
    return own


def _month_starts(today: dt.date, n: int) -> list[dt.date]:
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def premium_dashboard(*, branch: Branch, now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = now - dt.timedelta(days=PERIOD_DAYS)
    targets = targets_for(branch.pk)
    rows: dict[int, BrokerRow] = {u.pk: BrokerRow(broker=u) for u in brokers_of(branch.pk)}
    satisfaction_counts = dict.fromkeys(range(1, 6), 0)
    requests = (
        PremiumRequest.objects.filter(branch=branch, received_at__gte=since)
        .select_related("broker")
        .only(
            "broker__name", "broker__username", "state", "received_at", "first_response_due", "responded_at",
            "resolution_due", "resolved_at", "escalation_level", "satisfaction",
        )
    )  # fmt: skip
    for r in requests:
        row = rows.setdefault(r.broker_id, BrokerRow(broker=r.broker))
        row.received += 1
        row.open += r.state in OPEN_STATES
        row.escalated += r.escalation_level > 0
        if r.responded_at:
            row.responded += 1
            row.responded_in_time += r.responded_at <= r.first_response_due
            row.first_minutes.append(desk_sla.minutes_between(r.received_at, r.responded_at))
        if r.resolved_at:
            row.resolved += 1
            row.resolved_in_time += r.resolved_at <= r.resolution_due
            row.resolution_hours.append(desk_sla.minutes_between(r.received_at, r.resolved_at) / 60)
        if r.satisfaction:
            row.scores.append(r.satisfaction)
            satisfaction_counts[r.satisfaction] = satisfaction_counts.get(r.satisfaction, 0) + 1
    enrolments = list(
        Enrolment.objects.filter(branch=branch).values(
            "broker_id",
            "state",
            "effective_on",
            "ended_on",
            "commission_rate",
            "previous_rate",
            "previous_id",
        )
    )
    active = [e for e in enrolments if e["state"] == Enrolment.State.ACTIVE]
    for e in active:
        if e["broker_id"] in rows:
            rows[e["broker_id"]].clients += 1
    premium_rates = [e["commission_rate"] for e in active]
    uplifts = [e["commission_rate"] - e["previous_rate"] for e in active if e["previous_rate"] is not None]
    previous = [e["previous_rate"] for e in active if e["previous_rate"] is not None]
    months = []
    for first in _month_starts(today, MONTHS):
        last = _month_end(first)
        months.append(
            MonthRow(
                month=first,
                active=sum(
                    1
                    for e in enrolments
                    if e["effective_on"] <= last and (e["ended_on"] is None or e["ended_on"] > last)
                ),
                joined=sum(
                    1 for e in enrolments if e["previous_id"] is None and first <= e["effective_on"] <= last
                ),
                exited=sum(
                    1
                    for e in enrolments
                    if e["state"] == Enrolment.State.EXITED
                    and e["ended_on"]
                    and first <= e["ended_on"] <= last
                ),
            )
        )

    def avg(values: list[Decimal]) -> Decimal | None:
        return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.0001")) if values else None

    return Dashboard(
        branch=branch,
        since=since,
        first_target_minutes=targets.first_response.total_seconds() / 60,
        resolution_target_hours=targets.resolution.total_seconds() / 3600,
        brokers=sorted(rows.values(), key=lambda r: (-r.received, r.broker.pk)),
        months=months,
        active_clients=len(active),
        avg_premium_rate=avg(premium_rates),
        avg_previous_rate=avg(previous),
        avg_uplift=avg(uplifts),
        satisfaction_counts=satisfaction_counts,
    )


def chart_data(d: Dashboard) -> dict[str, Any]:
    """What premium/dashboard.js draws (json_script)."""
    names = [str(r.broker) for r in d.brokers]
    return {
        "brokers": names,
        "volume": {
            "received": [r.received for r in d.brokers],
            "open": [r.open for r in d.brokers],
            "escalated": [r.escalated for r in d.brokers],
        },
        "first": {"avg": [r.avg_first_minutes for r in d.brokers], "target": d.first_target_minutes},
        "resolution": {
            "avg": [r.avg_resolution_hours for r in d.brokers],
            "target": d.resolution_target_hours,
        },
        "retention": {
            "months": [m.month.strftime("%Y-%m") for m in d.months],
            "active": [m.active for m in d.months],
            "joined": [m.joined for m in d.months],
            "exited": [m.exited for m in d.months],
        },
        "satisfaction": {"avg": [r.satisfaction for r in d.brokers]},
    }
