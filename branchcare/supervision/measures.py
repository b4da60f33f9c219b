"""The measure registry (考核指标).

A :class:`Measure` says what is measured (code, label, unit, whether higher or lower is better, which
roles it applies to) and how: ``compute(branch, first, last, now)`` yields one :class:`MeasureRow` per
(employee, day) from the source records, and ``drill(branch, employee_ids, first, last, part, now)``
returns the queryset of records behind a value — ``part="num"`` the records counted in the numerator,
``part="den"`` those of the denominator. For every part listed in ``drill_parts`` the drill-down's count
equals the rolled-up sum, which the tests check measure by measure.

Most measures are declared with :func:`event_measure`: a ``Q`` on one model, a field naming the employee
and one attributing the record to a day; ``compute`` and ``drill`` are then the same query, grouped or
listed, so they cannot disagree. Apps other than on-site add their measures in ``measures_<app>.py``
modules, loaded only when that app has models (:func:`load`).

Period values (:func:`period_value`) are computed from the daily rollups: ``rate`` = Σnum / Σden × 100,
``count`` = Σnum, ``mean`` = Σnum / Σden, ``median`` = median of the pooled samples; a ``last`` measure
is a snapshot (e.g. book coverage) whose period value is that of the last day rolled up.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
HIGHER = "higher"
LOWER = "lower"


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=TZ)


def day_end(day: dt.date) -> dt.datetime:
    """The instant the day after ``day`` starts (exclusive end)."""
    return day_start(day + dt.timedelta(days=1))


@dataclass(frozen=True)
class MeasureRow:
    employee_id: int
    date: dt.date
    numerator: float
    denominator: float
    samples: tuple[float, ...] = ()


@dataclass(frozen=True)
class DrillRow:
    """One record of a drill-down list, as the page shows it."""

    at: Any
    title: str
    detail: str = ""
    person: str = ""
    status: str = ""
    url: str = ""


@dataclass(frozen=True)
class Measure:
    code: str
    label: Any
    unit: str
    direction: str  # HIGHER or LOWER is better
    roles: tuple[str, ...]  # role codes whose scorecards may use it
    kind: str  # rate | count | mean | median
    compute: Callable[..., Iterable[MeasureRow]]
    drill: Callable[..., QuerySet]
    describe: Callable[[Any], DrillRow]
    num_label: Any = ""
    den_label: Any = ""
    drill_parts: tuple[str, ...] = ("num", "den")  # parts whose record count equals the rolled-up sum
    aggregate: str = "sum"  # sum | last (snapshot: the value of the last day)
    help: Any = ""
    source: str = "onsite"
    order: int = 100
    scale: float = 1.0  # multiplies a count or mean (e.g. 0.0001 to show 元 as 万元)

    def value(self, num: float, den: float, samples: Sequence[float] = ()) -> float | None:
        """The measure's value from summed numerator / denominator (or samples for a median)."""
        if self.kind == "count":
            return round(num * self.scale, 2)
        if self.kind == "median":
            return round(statistics.median(samples), 2) if samples else None
        if not den:
            return None
        if self.kind == "rate":
            return round(num / den * 100, 2)
        return round(num / den * self.scale, 2)

    def count_for(self, part: str, num: float, den: float) -> float | None:
        """The number a drill-down of ``part`` must list (None when that part is not a record list)."""
        if part not in self.drill_parts:
            return None
        return num if part == "num" else den


_registry: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    _registry[measure.code] = measure
    return measure


def all_measures() -> dict[str, Measure]:
    load()
    return dict(sorted(_registry.items(), key=lambda kv: (kv[1].order, kv[0])))


def get(code: str) -> Measure | None:
    load()
    return _registry.get(code)


def for_role(role: str) -> list[Measure]:
    return [m for m in all_measures().values() if role in m.roles]


# Source apps: (app label, module adding its measures). A module whose app has no models yet (or is
# not installed) is skipped, so the registry grows as the subsystems land.
SOURCES = (
    ("onsite", "branchcare.supervision.measures_onsite"),
    ("research", "branchcare.supervision.measures_research"),
    ("offsite", "branchcare.supervision.measures_offsite"),
    ("premium", "branchcare.supervision.measures_premium"),
    ("prospects", "branchcare.supervision.measures_prospects"),
)
_loaded = False


def source_available(label: str) -> bool:
    """Whether the app ``label`` is installed and has at least one model."""
    from django.apps import apps

    try:
        config = apps.get_app_config(label)
    except LookupError:
        return False
    return any(True for _ in config.get_models())


def load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for label, module in SOURCES:
        if not source_available(label):
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                logger.warning("measures of %s not loaded: %s", label, exc)
        except Exception as exc:  # noqa: BLE001 - a source app changed under us: skip its measures
            logger.warning("measures of %s not loaded: %s", label, exc)


# --- the common shape: a Q on one model --------------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    """The records of an event measure: rows of ``model`` in the branch, attributed to the employee in
    ``employee`` (an ``_id`` path) on the local day of ``day`` (a date or datetime field)."""

    model: type[Model]
    employee: str
    day: str
    day_is_date: bool = False
    base: Callable[[dt.datetime], Q] = lambda now: Q()
    num: Q | None = None  # the numerator's rows (None: a mean's sum field is used instead)
    sum_field: str | None = None  # for means: the numerator is Sum(sum_field)
    annotations: Callable[[], dict[str, Any]] = dict
    branch_field: str = "branch"
    select_related: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ("-pk",)

    def queryset(self, *, branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> QuerySet:
        qs = self.model._default_manager.filter(**{self.branch_field: branch})
        if self.day_is_date:
            qs = qs.filter(**{f"{self.day}__gte": first, f"{self.day}__lte": last})
        else:
            qs = qs.filter(**{f"{self.day}__gte": day_start(first), f"{self.day}__lt": day_end(last)})
        extra = self.annotations()
        if extra:
            qs = qs.annotate(**extra)
        return qs.filter(self.base(now)).filter(**{f"{self.employee}__isnull": False})

    def compute(self, branch: Any, first: dt.date, last: dt.date, now: dt.datetime) -> Iterator[MeasureRow]:
        day_expr = F(self.day) if self.day_is_date else TruncDate(self.day, tzinfo=TZ)
        if self.sum_field:
            num_agg: Any = Sum(self.sum_field)
        else:
            num_agg = Count("pk", filter=self.num) if self.num is not None else Count("pk")
        rows = (
            self.queryset(branch=branch, first=first, last=last, now=now)
            .annotate(_day=day_expr)
            .values(self.employee, "_day")
            .annotate(_num=num_agg, _den=Count("pk"))
            .order_by()
        )
        for row in rows:
            yield MeasureRow(row[self.employee], row["_day"], float(row["_num"] or 0), float(row["_den"]))

    def drill(
        self,
        *,
        branch: Any,
        employee_ids: Sequence[int],
        first: dt.date,
        last: dt.date,
        part: str,
        now: dt.datetime,
    ) -> QuerySet:
        qs = self.queryset(branch=branch, first=first, last=last, now=now).filter(
            **{f"{self.employee}__in": list(employee_ids)}
        )
        if part == "num" and self.num is not None:
            qs = qs.filter(self.num)
        return qs.select_related(*self.select_related).order_by(*self.order_by)


def event_measure(
    *,
    code: str,
    label: Any,
    unit: str,
    direction: str,
    roles: tuple[str, ...],
    kind: str,
    basis: Basis,
    describe: Callable[[Any], DrillRow],
    **extra: Any,
) -> Measure:
    """A measure whose compute and drill-down are the same query on ``basis`` (grouped / listed)."""
    parts = ("num", "den") if kind == "rate" else ("num",) if kind == "count" else ("den",)
    return register(
        Measure(
            code=code,
            label=label,
            unit=unit,
            direction=direction,
            roles=roles,
            kind=kind,
            compute=basis.compute,
            drill=basis.drill,
            describe=describe,
            drill_parts=extra.pop("drill_parts", parts),
            **extra,
        )
    )


@dataclass
class PeriodFigure:
    """A measure's figure for one employee (or a team / branch total) over a period."""

    measure: Measure
    numerator: float = 0
    denominator: float = 0
    samples: list[float] = field(default_factory=list)
    as_of: dt.date | None = None  # snapshot measures: the day whose value this is

    @property
    def value(self) -> float | None:
        return self.measure.value(self.numerator, self.denominator, self.samples)

    @property
    def has_data(self) -> bool:
        return bool(self.numerator or self.denominator or self.samples)

    def add(self, other: PeriodFigure) -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator
        self.samples.extend(other.samples)
        if other.as_of and (self.as_of is None or other.as_of > self.as_of):
            self.as_of = other.as_of
