"""Live supervision (督导看板): today's work due / done / overdue per person, joined across the subsystems.

Each subsystem contributes a :class:`LiveSource` — "today" counters and the list behind each one, both
from the same ``Q`` so that a drill-down lists exactly what was counted. Counters are bounded queries:
one grouped aggregate per source for all the branches asked for, whatever the number of employees.
Sources of apps that do not exist yet are simply absent (``measures.source_available``).

Clients not contacted within their tier interval come from the latest ``book_coverage`` rollup (the
nightly job), not from scanning visits per request; expired risk assessments are one indexed count.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldError
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404

from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User

from . import measures as registry
from .measures import DrillRow, day_end
from .models import DailyMeasure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counter:
    key: str  # unique across sources, e.g. "orders_overdue"
    label: Any
    column: str  # due | done | overdue
    q: Callable[[dt.datetime], Q]


@dataclass(frozen=True)
class LiveSource:
    key: str
    label: Any
    model: Any
    employee: Any  # field name, or an expression (e.g. a Case choosing the current holder)
    counters: tuple[Counter, ...]
    describe: Callable[[Any], DrillRow]
    due_field: str  # what "most overdue" sorts by
    branch_field: str = "branch"
    prefilter: Callable[[dt.datetime], Q] = lambda now: Q()
    select_related: tuple[str, ...] = ()
    sla: bool = False  # its overdue counter is an SLA breach

    def base(self, branch_ids: Sequence[int], now: dt.datetime) -> QuerySet:
        qs = self.model._default_manager.filter(**{f"{self.branch_field}_id__in": list(branch_ids)})
        qs = qs.filter(self.prefilter(now))
        if not isinstance(self.employee, str):
            qs = qs.annotate(_emp=self.employee)
        return qs

    @property
    def has_overdue(self) -> bool:
        return any(c.column == "overdue" for c in self.counters)

    @property
    def emp_field(self) -> str:
        return self.employee if isinstance(self.employee, str) else "_emp"


_sources: dict[str, LiveSource] = {}


def register(source: LiveSource) -> LiveSource:
    _sources[source.key] = source
    return source


def sources() -> dict[str, LiveSource]:
    registry.load()
    _load()
    return dict(_sources)


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for label, module in (
        ("onsite", "branchcare.supervision.live_onsite"),
        ("offsite", "branchcare.supervision.live_offsite"),
        ("premium", "branchcare.supervision.live_premium"),
        ("prospects", "branchcare.supervision.live_prospects"),
    ):
        if not registry.source_available(label):
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                logger.warning("live counters of %s not loaded: %s", label, exc)
        except Exception as exc:  # noqa: BLE001 - a source app changed under us: skip its counters
            logger.warning("live counters of %s not loaded: %s", label, exc)


def counter(key: str) -> tuple[LiveSource, Counter]:
    for source in sources().values():
        for c in source.counters:
            if c.key == key:
                return source, c
    raise Http404


# --- figures -----------------------------------------------------------------------------------------------


@dataclass
class PersonLive:
    employee_id: int
    branch_id: int
    counts: dict[str, int] = field(default_factory=dict)

    def total(self, column: str) -> int:
        return sum(
            self.counts.get(c.key, 0) for s in sources().values() for c in s.counters if c.column == column
        )

    @property
    def due(self) -> int:
        return self.total("due")

    @property
    def done(self) -> int:
        return self.total("done")

    @property
    def overdue(self) -> int:
        return self.total("overdue")


def live_counts(branch_ids: Sequence[int], now: dt.datetime) -> dict[tuple[int, int], PersonLive]:
    """(branch id, employee id) → today's counters, one grouped query per source."""
    out: dict[tuple[int, int], PersonLive] = {}
    for source in sources().values():
        try:
            rows = _source_rows(source, branch_ids, now)
        except FieldError as exc:  # a source app changed under us: show the others
            logger.error("live counters of %s failed: %s", source.key, exc)
            continue
        for row in rows:
            emp = row[source.emp_field] or 0  # 0: unassigned work (counted in the branch totals)
            key = (row[f"{source.branch_field}_id"], emp)
            person = out.setdefault(key, PersonLive(emp, key[0]))
            for c in source.counters:
                person.counts[c.key] = person.counts.get(c.key, 0) + row[c.key]
    return out


def _source_rows(source: LiveSource, branch_ids: Sequence[int], now: dt.datetime) -> list[dict[str, Any]]:
    """One grouped query: every counter of ``source`` per (branch, employee)."""
    annotations = {c.key: Count("pk", filter=c.q(now)) for c in source.counters}
    any_q = Q()
    for c in source.counters:
        any_q |= c.q(now)
    return list(
        source.base(branch_ids, now)
        .filter(any_q)
        .values(f"{source.branch_field}_id", source.emp_field)
        .annotate(**annotations)
        .order_by()
    )


def live_items(
    *, key: str, branch_ids: Sequence[int], employee_ids: Sequence[int] | None, now: dt.datetime
) -> tuple[LiveSource, Counter, QuerySet]:
    """The records behind a live counter (the same ``Q`` as the count)."""
    source, c = counter(key)
    qs = source.base(branch_ids, now).filter(c.q(now))
    if employee_ids is not None:
        qs = qs.filter(**{f"{source.emp_field}__in": list(employee_ids)})
    return source, c, qs.select_related(*source.select_related).order_by(source.due_field, "pk")


def most_overdue(branch_ids: Sequence[int], now: dt.datetime, limit: int = 10) -> list[DrillRow]:
    """The longest-overdue items across the sources (one query per source, ``limit`` rows each)."""
    rows: list[tuple[Any, DrillRow]] = []
    for source in sources().values():
        for c in source.counters:
            if c.column != "overdue":
                continue
            qs = (
                source.base(branch_ids, now)
                .filter(c.q(now))
                .select_related(*source.select_related)
                .order_by(source.due_field, "pk")[:limit]
            )
            for obj in qs:
                due = getattr(obj, source.due_field)
                sort_key = due if isinstance(due, dt.datetime) else day_end(due)  # due by the end of the day
                rows.append((sort_key, source.describe(obj)))
    rows.sort(key=lambda r: r[0])
    return [r[1] for r in rows[:limit]]


def sla_from(dash: Sequence[BranchDash]) -> list[tuple[LiveSource, Counter, int]]:
    """Per SLA source: work past its deadline now, from the dashboard's counts (no further query)."""
    return [
        (s, c, sum(bd.all_counts.get(c.key, 0) for bd in dash))
        for s in sources().values()
        if s.sla
        for c in s.counters
        if c.column == "overdue"
    ]


def sla_breaches(branch_ids: Sequence[int], now: dt.datetime) -> list[tuple[LiveSource, Counter, int]]:
    """Per SLA source: how many pieces of work are past their deadline right now."""
    out = []
    for source in sources().values():
        if not source.sla:
            continue
        for c in source.counters:
            if c.column == "overdue":
                out.append((source, c, source.base(branch_ids, now).filter(c.q(now)).count()))
    return out


def latest_snapshot(
    branch_ids: Sequence[int], code: str, value: Callable[[float, float], float]
) -> tuple[dict[tuple[int, int], int], dict[int, dt.date]]:
    """(branch, employee) → ``value(num, den)`` of each branch's latest rollup of the snapshot measure
    ``code``, and the day that rollup is of (two indexed queries)."""
    latest = dict(
        DailyMeasure.objects.filter(branch_id__in=list(branch_ids), measure=code)
        .values("branch_id")
        .annotate(d=Max("date"))
        .values_list("branch_id", "d")
        .order_by()
    )
    if not latest:
        return {}, {}
    q = Q()
    for branch_id, day in latest.items():
        q |= Q(branch_id=branch_id, date=day)
    out = {}
    for row in (
        DailyMeasure.objects.filter(q, measure=code)
        .values("branch_id", "employee_id")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .order_by()
    ):
        out[(row["branch_id"], row["employee_id"])] = int(value(row["n"], row["d"]))
    return out, latest


def uncovered_clients(branch_ids: Sequence[int]) -> tuple[dict[tuple[int, int], int], dict[int, dt.date]]:
    """(branch, manager) → clients not contacted within their tier interval (latest ``book_coverage``)."""
    return latest_snapshot(branch_ids, "book_coverage", lambda n, d: d - n)


def expired_assessments(branch_ids: Sequence[int]) -> tuple[dict[tuple[int, int], int], dict[int, dt.date]]:
    """(branch, manager) → active clients whose risk assessment is missing or expired (latest
    ``risk_expired`` rollup; the drill-down lists them as of today)."""
    return latest_snapshot(branch_ids, "risk_expired", lambda n, d: n)


# Staff listed on the dashboard even with nothing due today: everyone who serves clients.
SERVING = {Cap.ONSITE_SERVE, Cap.ADVICE_WRITE, Cap.PREMIUM_SERVE, Cap.OFFSITE_HANDLE, Cap.PROSPECTS_DEVELOP}


@dataclass
class DashRow:
    employee: User
    live: PersonLive
    uncovered: int
    expired: int


@dataclass
class BranchDash:
    branch: Branch
    rows: list[DashRow]
    coverage_day: dt.date | None
    all_counts: dict[str, int] = field(default_factory=dict)  # incl. unassigned work
    due: int = 0
    done: int = 0
    overdue: int = 0
    uncovered: int = 0
    expired: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def dashboard(*, branches: Sequence[Branch], now: dt.datetime) -> list[BranchDash]:
    """Per branch, one row per person with work today (or clients to look after): a fixed number of
    queries for any number of branches and employees."""
    ids = [b.pk for b in branches]
    live = live_counts(ids, now)
    uncovered, coverage_days = uncovered_clients(ids)
    expired, _days = expired_assessments(ids)
    keys = {k for k in live if k[1]} | set(uncovered) | set(expired)
    role_ids = [
        pk for pk, caps in Role.objects.values_list("pk", "capabilities") if set(caps or []) & SERVING
    ]
    staff = (
        User.objects.filter(branch_id__in=ids, is_active=True, roles__in=role_ids)
        .values_list("branch_id", "pk")
        .distinct()
    )
    keys |= set(staff)
    people = User.objects.in_bulk({k[1] for k in keys})
    out = []
    for b in branches:
        rows = []
        for key in sorted(
            (k for k in keys if k[0] == b.pk), key=lambda k: people[k[1]].username if k[1] in people else ""
        ):
            if key[1] not in people:
                continue
            rows.append(
                DashRow(
                    employee=people[key[1]],
                    live=live.get(key) or PersonLive(key[1], b.pk),
                    uncovered=uncovered.get(key, 0),
                    expired=expired.get(key, 0),
                )
            )
        bd = BranchDash(branch=b, rows=rows, coverage_day=coverage_days.get(b.pk))
        for key, person in live.items():
            if key[0] == b.pk:
                for k, v in person.counts.items():
                    bd.all_counts[k] = bd.all_counts.get(k, 0) + v
        for r in rows:
            bd.due += r.live.due
            bd.done += r.live.done
            bd.overdue += r.live.overdue
            bd.uncovered += r.uncovered
            bd.expired += r.expired
            for k, v in r.live.counts.items():
                bd.counts[k] = bd.counts.get(k, 0) + v
        out.append(bd)
    return out
