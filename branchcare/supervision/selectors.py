"""Reads of the supervision app, always scoped to the viewer: which branches they supervise, the period
figures from the rollups (never the raw records), scorecards and scores, and drill-downs.

Figures for a period take a fixed number of queries whatever the number of employees: one aggregate over
the summed measures, one for the median samples, two for the snapshot measures (their last day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, Team, User
from branchcare.org.scope import branches_for

from . import measures as registry
from .measures import Measure, PeriodFigure
from .models import DailyMeasure, RollupRun, Scorecard
from .periods import Period, recent_periods
from .services import DEFAULT_SCORECARDS, ROLE_LABELS

# --- branches -------------------------------------------------------------------------------------------------


def supervised_branches(viewer: User, capability: str = Cap.SUPERVISE) -> QuerySet[Branch]:
    return branches_for(viewer, capability).select_related("company").order_by("code")


def is_company_view(viewer: User, capability: str = Cap.SUPERVISE) -> bool:
    return viewer.scope_for(capability) == "company"


def branch_for(*, viewer: User, branch_id: Any = None, capability: str = Cap.SUPERVISE) -> Branch:
    """The branch asked for (404 when the viewer may not supervise it), else the viewer's own, else the
    first they supervise."""
    branches = supervised_branches(viewer, capability)
    if branch_id not in (None, ""):
        try:
            found = branches.filter(pk=int(branch_id)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise Http404
        return found
    found = (branches.filter(pk=viewer.branch_id).first() if viewer.branch_id else None) or branches.first()
    if found is None:
        raise Http404
    return found


def last_rollup(branch: Branch) -> RollupRun | None:
    return RollupRun.objects.filter(branch=branch).order_by("-finished_at", "-id").first()


# --- roles and members ---------------------------------------------------------------------------------------


def assessed_roles() -> list[tuple[str, str]]:
    """Role codes that have measures (and their labels), in a stable order."""
    codes = list(DEFAULT_SCORECARDS)
    for m in registry.all_measures().values():
        for r in m.roles:
            if r not in codes:
                codes.append(r)
    return [(c, ROLE_LABELS.get(c, c)) for c in codes]


def role_members(branch: Branch, role: str) -> list[User]:
    """Active staff of ``branch`` holding the role ``role`` (one query; team loaded)."""
    return list(
        User.objects.filter(branch=branch, is_active=True, roles__code=role)
        .select_related("team")
        .distinct()
        .order_by("team__name", "username")
    )


# --- period figures from the rollups ---------------------------------------------------------------------------

Figures = dict[int, dict[str, PeriodFigure]]  # employee id -> measure code -> figure


def period_figures(
    *, branch: Branch, employee_ids: Sequence[int], first: dt.date, last: dt.date, codes: Iterable[str]
) -> Figures:
    """Each employee's figure of each measure over ``first``..``last``, from the daily rollups."""
    all_m = registry.all_measures()
    chosen = [all_m[c] for c in dict.fromkeys(codes) if c in all_m]
    out: Figures = defaultdict(dict)
    ids = list(employee_ids)
    if not ids or not chosen:
        return out
    base = DailyMeasure.objects.filter(branch=branch, employee_id__in=ids, date__gte=first, date__lte=last)
    summed = [m.code for m in chosen if m.aggregate == "sum" and m.kind != "median"]
    medians = [m.code for m in chosen if m.aggregate == "sum" and m.kind == "median"]
    snapshots = [m.code for m in chosen if m.aggregate == "last"]
    if summed:
        for row in (
            base.filter(measure__in=summed)
            .values("employee_id", "measure")
            .annotate(num=Sum("numerator"), den=Sum("denominator"))
            .order_by()
        ):
            out[row["employee_id"]][row["measure"]] = PeriodFigure(
                all_m[row["measure"]], float(row["num"] or 0), float(row["den"] or 0)
            )
    if medians:
        for emp, code, num, den, samples in base.filter(measure__in=medians).values_list(
            "employee_id", "measure", "numerator", "denominator", "samples"
        ):
            fig = out[emp].setdefault(code, PeriodFigure(all_m[code]))
            fig.add(PeriodFigure(all_m[code], num, den, [float(s) for s in samples or []]))
    if snapshots:
        latest = dict(
            DailyMeasure.objects.filter(branch=branch, date__gte=first, date__lte=last, measure__in=snapshots)
            .values("measure")
            .annotate(d=Max("date"))
            .values_list("measure", "d")
            .order_by()
        )
        if latest:
            q = Q()
            for code, day in latest.items():
                q |= Q(measure=code, date=day)
            for emp, code, day, num, den in base.filter(q).values_list(
                "employee_id", "measure", "date", "numerator", "denominator"
            ):
                out[emp][code] = PeriodFigure(all_m[code], num, den, as_of=day)
    return out


def sum_figures(figures: Iterable[dict[str, PeriodFigure]], codes: Iterable[str]) -> dict[str, PeriodFigure]:
    """A team's or branch's figures: the members' numerators, denominators and samples pooled."""
    all_m = registry.all_measures()
    total = {c: PeriodFigure(all_m[c]) for c in codes if c in all_m}
    for per in figures:
        for code, fig in per.items():
            if code in total:
                total[code].add(fig)
    return total


# --- scorecards ------------------------------------------------------------------------------------------------


@dataclass
class CardItem:
    measure: Measure
    weight: int
    target: float
    threshold: float

    def score(self, value: float | None) -> float | None:
        """0 at the threshold, 100 at the target, linear between, clamped (works for both directions)."""
        if value is None:
            return None
        ratio = (value - self.threshold) / (self.target - self.threshold)
        return round(max(0.0, min(1.0, ratio)) * 100, 2)


@dataclass
class CardVersion:
    role: str
    effective_from: dt.date | None  # None: the built-in default
    items: list[CardItem]
    pk: int | None = None
    note: str = ""
    created_by: str = ""

    @property
    def is_default(self) -> bool:
        return self.pk is None

    def weights(self) -> dict[str, int]:
        return {i.measure.code: i.weight for i in self.items}


def _default_version(role: str) -> CardVersion:
    all_m = registry.all_measures()
    items = [CardItem(all_m[c], w, t, th) for c, w, t, th in DEFAULT_SCORECARDS.get(role, []) if c in all_m]
    return CardVersion(role=role, effective_from=None, items=items)


def _version_of(card: Scorecard) -> CardVersion:
    all_m = registry.all_measures()
    return CardVersion(
        role=card.role,
        effective_from=card.effective_from,
        items=[
            CardItem(all_m[i.measure], i.weight, i.target, i.threshold)
            for i in card.items.all()
            if i.measure in all_m
        ],
        pk=card.pk,
        note=card.note,
        created_by=str(card.created_by) if card.created_by_id else "",
    )


def scorecard_versions(branch: Branch, role: str) -> list[CardVersion]:
    """Every saved version of the role's scorecard, newest first, then the built-in default."""
    cards = (
        Scorecard.objects.filter(branch=branch, role=role)
        .select_related("created_by")
        .prefetch_related("items")
        .order_by("-effective_from")
    )
    return [*(_version_of(c) for c in cards), _default_version(role)]


def version_in_force(branch: Branch, role: str, day: dt.date) -> CardVersion:
    """The version that scores a period starting on ``day``."""
    card = (
        Scorecard.objects.filter(branch=branch, role=role, effective_from__lte=day)
        .select_related("created_by")
        .prefetch_related("items")
        .order_by("-effective_from")
        .first()
    )
    return _version_of(card) if card else _default_version(role)


def versions_for_periods(branch: Branch, role: str, periods: Sequence[Period]) -> list[CardVersion]:
    """The version in force for each period (two queries for all of them)."""
    saved = [
        _version_of(c)
        for c in Scorecard.objects.filter(branch=branch, role=role)
        .select_related("created_by")
        .prefetch_related("items")
        .order_by("-effective_from")
    ]
    default = _default_version(role)
    out = []
    for p in periods:
        out.append(next((v for v in saved if v.effective_from and v.effective_from <= p.first), default))
    return out


@dataclass
class ScoreLine:
    """One row of a scorecard table: an employee, a team subtotal or the branch total."""

    label: str
    level: str  # person | team | branch
    figures: dict[str, PeriodFigure]
    version: CardVersion
    employee: User | None = None
    team: Team | None = None
    item_scores: dict[str, float | None] = field(default_factory=dict)
    total: float | None = None

    def compute(self) -> ScoreLine:
        weighted = 0.0
        weights = 0
        for item in self.version.items:
            fig = self.figures.get(item.measure.code)
            value = fig.value if fig and fig.has_data else None
            s = item.score(value)
            self.item_scores[item.measure.code] = s
            if s is not None:
                weighted += s * item.weight
                weights += item.weight
        self.total = round(weighted / weights, 2) if weights else None
        return self


@dataclass
class ScorecardTable:
    branch: Branch
    role: str
    period: Period
    version: CardVersion
    members: list[User]
    lines: list[ScoreLine]  # persons, then per team a subtotal, then the branch total


def scorecard_table(*, branch: Branch, role: str, period: Period) -> ScorecardTable:
    """Scores of every member of ``role`` in ``branch`` for ``period``: per person, per team, branch."""
    version = version_in_force(branch, role, period.first)
    members = role_members(branch, role)
    codes = [i.measure.code for i in version.items]
    figs = period_figures(
        branch=branch, employee_ids=[m.pk for m in members], first=period.first, last=period.last, codes=codes
    )
    lines: list[ScoreLine] = []
    by_team: dict[Any, list[User]] = defaultdict(list)
    for m in members:
        by_team[m.team_id].append(m)
    for _team_id, team_members in by_team.items():
        for m in team_members:
            lines.append(ScoreLine(str(m), "person", figs.get(m.pk, {}), version, employee=m).compute())
        team = team_members[0].team
        if team is not None:
            lines.append(
                ScoreLine(
                    team.name, "team", sum_figures((figs.get(m.pk, {}) for m in team_members), codes),
                    version, team=team,
                ).compute()
            )  # fmt: skip
    lines.append(
        ScoreLine(branch.name, "branch", sum_figures((figs.get(m.pk, {}) for m in members), codes), version)
        .compute()
    )  # fmt: skip
    return ScorecardTable(
        branch=branch, role=role, period=period, version=version, members=members, lines=lines
    )


def score_trend(*, branch: Branch, role: str, kind: str, day: dt.date, n: int = 6) -> dict[str, Any]:
    """Each member's total score over the last ``n`` periods (for the trend chart)."""
    periods = recent_periods(kind, day, n)
    versions = versions_for_periods(branch, role, periods)
    members = role_members(branch, role)
    ids = [m.pk for m in members]
    series: dict[int, list[float | None]] = {m.pk: [] for m in members}
    branch_series: list[float | None] = []
    for p, version in zip(periods, versions, strict=True):
        codes = [i.measure.code for i in version.items]
        figs = period_figures(branch=branch, employee_ids=ids, first=p.first, last=p.last, codes=codes)
        for m in members:
            series[m.pk].append(ScoreLine(str(m), "person", figs.get(m.pk, {}), version).compute().total)
        branch_series.append(
            ScoreLine("", "branch", sum_figures(figs.values(), codes), version).compute().total
        )
    return {
        "labels": {"title": str(_("综合得分趋势")), "branch": str(_("营业部合计"))},
        "periods": [p.label for p in periods],
        "firsts": [p.first.isoformat() for p in periods],
        "series": [{"name": str(m), "data": series[m.pk]} for m in members],
        "branch": branch_series,
    }


# --- drill-down ----------------------------------------------------------------------------------------------


@dataclass
class Drill:
    measure: Measure
    branch: Branch
    part: str
    first: dt.date
    last: dt.date
    level: str  # branch | team | person
    label: str
    employee_ids: list[int]
    qs: QuerySet
    expected: float | None  # the number shown on the scorecard for this part


def drill_for(
    *,
    viewer: User,
    measure_code: str,
    branch_id: Any,
    first: dt.date,
    last: dt.date,
    part: str,
    employee_id: Any = None,
    team_id: Any = None,
    role: str | None = None,
    now: dt.datetime | None = None,
) -> Drill:
    """The records behind one figure of the scorecard: branch → team → person. 404 for an unknown
    measure or part, a branch the viewer does not supervise, or a person / team outside it."""
    measure = registry.get(measure_code)
    if measure is None or part not in ("num", "den"):
        raise Http404
    branch = branch_for(viewer=viewer, branch_id=branch_id)
    staff = User.objects.filter(branch=branch)
    if role:
        staff = staff.filter(roles__code=role, is_active=True)
    if employee_id not in (None, ""):
        try:
            person = staff.filter(pk=int(employee_id)).first()
        except (TypeError, ValueError):
            person = None
        if person is None:
            raise Http404
        ids, level, label = [person.pk], "person", str(person)
    elif team_id not in (None, ""):
        try:
            team = Team.objects.filter(branch=branch, pk=int(team_id)).first()
        except (TypeError, ValueError):
            team = None
        if team is None:
            raise Http404
        ids = list(staff.filter(team=team).values_list("pk", flat=True).distinct())
        level, label = "team", team.name
    else:
        ids = list(staff.values_list("pk", flat=True).distinct())
        level, label = "branch", branch.name
    if (last - first).days > 400 or last < first:
        raise Http404
    qs = measure.drill(
        branch=branch, employee_ids=ids, first=first, last=last, part=part, now=now or timezone.now()
    )
    figs = period_figures(branch=branch, employee_ids=ids, first=first, last=last, codes=[measure.code])
    total = sum_figures(figs.values(), [measure.code])[measure.code]
    expected = measure.count_for(part, total.numerator, total.denominator)
    return Drill(measure, branch, part, first, last, level, label, ids, qs, expected)


def role_choices_with_members() -> list[tuple[str, str]]:
    """Assessed roles that exist as Role rows."""
    existing = set(Role.objects.values_list("code", flat=True))
    return [(c, label) for c, label in assessed_roles() if c in existing]
