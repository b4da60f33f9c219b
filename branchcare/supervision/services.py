"""Writes of the supervision app: recomputing the daily rollups, and saving scorecard versions.

Rollups (:func:`rollup_recompute`) replace a branch's rows for a date range in one transaction: run twice,
the result is the same (idempotent), so the nightly job and an on-demand recompute can overlap safely.

Scorecards are versioned per branch and role. The built-in :data:`DEFAULT_SCORECARDS` apply until a
director saves a version; a saved version takes effect on the first day of a later month, so a change
made during a period never alters that period's scores (a period is scored with the version in force on
its first day). A version still in the future may be edited in place; versions in force are never changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import FieldError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, User
from branchcare.org.scope import branches_for

from . import measures as registry
from .models import DailyMeasure, RollupRun, Scorecard, ScorecardItem
from .periods import month_start, next_month_start

logger = logging.getLogger(__name__)
MAX_RANGE_DAYS = 400

# role -> [(measure, weight, target, threshold)]; the scorecard in force before any saved version.
DEFAULT_SCORECARDS: dict[str, list[tuple[str, int, float, float]]] = {
    "manager": [
        ("visit_completion", 20, 100, 60),
        ("visits_vs_quota", 10, 100, 60),
        ("patrols_vs_quota", 10, 100, 50),
        ("book_coverage", 20, 95, 60),
        ("visit_satisfaction", 10, 5, 3),
        ("order_rating", 10, 5, 3),
        ("orders_late_held", 10, 0, 5),
        ("followups_overdue", 10, 0, 5),
    ],
    "consultant": [
        ("consult_ontime", 35, 100, 70),
        ("turnaround_median", 20, 2, 8),
        ("rework_rate", 15, 0, 30),
        ("advice_rating", 20, 5, 3),
        ("orders_late_held", 10, 0, 5),
    ],
    "agent": [
        ("inquiry_ontime", 35, 100, 80),
        ("inquiry_first_response", 20, 100, 80),
        ("return_visit_completion", 25, 100, 70),
        ("inquiry_satisfaction", 20, 5, 3),
    ],
    "broker": [
        ("premium_ontime", 30, 100, 80),
        ("premium_first_response", 20, 100, 80),
        ("prospects_converted", 30, 10, 0),
        ("prospects_assets", 20, 50, 0),
    ],
    "researcher": [
        ("research_output", 50, 20, 0),
        ("recommendation_hit_rate", 50, 60, 20),
    ],
}
ROLE_LABELS = {"manager": "客户经理", "consultant": "投资顾问", "broker": "经纪人", "agent": "客服专员",
               "researcher": "研究员"}  # fmt: skip


# --- rollups -------------------------------------------------------------------------------------------------


@transaction.atomic
def rollup_recompute(
    *,
    branch: Branch,
    first: dt.date,
    last: dt.date,
    now: dt.datetime | None = None,
    codes: Iterable[str] | None = None,
    actor: User | None = None,
) -> int:
    """Recompute ``branch``'s daily measures for ``first``..``last`` (both included) from the source
    records, replacing what was there. Returns the number of rows written."""
    if last < first:
        raise DomainError(_("截止日期不能早于起始日期。"), field="last")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise DomainError(_("一次最多重算 %(n)s 天。") % {"n": MAX_RANGE_DAYS}, field="first")
    now = now or timezone.now()
    all_measures = registry.all_measures()
    chosen = [all_measures[c] for c in codes if c in all_measures] if codes else list(all_measures.values())
    rows: list[DailyMeasure] = []
    done: list[str] = []
    for measure in chosen:
        try:
            with transaction.atomic():  # a savepoint: one source app's failure leaves the others intact
                computed = list(measure.compute(branch, first, last, now))
        except (FieldError, DatabaseError) as exc:
            logger.error("measure %s of branch %s not computed: %s", measure.code, branch.pk, exc)
            continue
        done.append(measure.code)
        for r in computed:
            if not (r.numerator or r.denominator or r.samples):
                continue
            rows.append(
                DailyMeasure(
                    branch=branch,
                    employee_id=r.employee_id,
                    date=r.date,
                    measure=measure.code,
                    numerator=r.numerator,
                    denominator=r.denominator,
                    value=measure.value(r.numerator, r.denominator, r.samples),
                    samples=list(r.samples),
                )
            )
    DailyMeasure.objects.filter(branch=branch, date__gte=first, date__lte=last, measure__in=done).delete()
    DailyMeasure.objects.bulk_create(rows, batch_size=2000)
    RollupRun.objects.create(branch=branch, first=first, last=last, rows=len(rows))
    if actor is not None:
        audit_log(
            actor=actor,
            action="supervision.rollup_recompute",
            object_type="org.branch",
            object_id=str(branch.pk),
            object_repr=str(branch),
            branch_id=branch.pk,
            changes={"first": str(first), "last": str(last), "rows": len(rows)},
        )
    return len(rows)


def rollup_request(*, actor: User, branch: Branch, first: dt.date, last: dt.date) -> int:
    """A director's on-demand recompute of their branch (Cap.SUPERVISE in that branch)."""
    if (
        not actor.has_cap(Cap.SUPERVISE)
        or not branches_for(actor, Cap.SUPERVISE).filter(pk=branch.pk).exists()
    ):
        raise DomainError(_("您没有重算该营业部考核数据的权限。"), code="forbidden")
    return rollup_recompute(branch=branch, first=first, last=last, actor=actor)


# --- scorecards ---------------------------------------------------------------------------------------------


def _number(value: Any, field: str, label: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(_("%(f)s 必须是数字。") % {"f": label}, field=field) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise DomainError(_("%(f)s 必须是数字。") % {"f": label}, field=field)
    return number


def _validated_items(role: str, items: Iterable[Mapping[str, Any]]) -> list[ScorecardItem]:
    allowed = {m.code: m for m in registry.for_role(role)}
    out: list[ScorecardItem] = []
    seen: set[str] = set()
    for raw in items:
        code = str(raw.get("measure") or "")
        measure = allowed.get(code)
        if measure is None:
            raise DomainError(_("指标 %(m)s 不适用于该角色。") % {"m": code}, field="measure")
        if code in seen:
            raise DomainError(_("指标 %(m)s 重复。") % {"m": measure.label}, field="measure")
        seen.add(code)
        weight = _number(raw.get("weight"), f"weight_{code}", _("%(m)s 的权重") % {"m": measure.label})
        if weight < 0 or weight != int(weight) or weight > 100:
            raise DomainError(
                _("%(m)s 的权重必须是 0–100 的整数。") % {"m": measure.label}, field=f"weight_{code}"
            )
        if weight == 0:
            continue
        target = _number(raw.get("target"), f"target_{code}", _("%(m)s 的目标值") % {"m": measure.label})
        threshold = _number(
            raw.get("threshold"), f"threshold_{code}", _("%(m)s 的底线值") % {"m": measure.label}
        )
        if target == threshold:
            raise DomainError(
                _("%(m)s 的目标值与底线值不能相同。") % {"m": measure.label}, field=f"target_{code}"
            )
        better_high = measure.direction == registry.HIGHER
        if (target < threshold) if better_high else (target > threshold):
            raise DomainError(
                _("%(m)s 越%(d)s越好：目标值应%(d)s于底线值。")
                % {"m": measure.label, "d": _("高") if better_high else _("低")},
                field=f"target_{code}",
            )
        out.append(ScorecardItem(measure=code, weight=int(weight), target=target, threshold=threshold))
    if sum(i.weight for i in out) != 100:
        raise DomainError(
            _("权重合计必须为 100（现为 %(n)s）。") % {"n": sum(i.weight for i in out)}, field="weight"
        )
    return out


def earliest_effective(today: dt.date) -> dt.date:
    """A change made ``today`` applies from the next period: the first day of next month."""
    return next_month_start(today)


@transaction.atomic
def scorecard_save(
    *,
    actor: User,
    branch: Branch,
    role: str,
    items: Iterable[Mapping[str, Any]],
    note: str = "",
    effective_from: dt.date | None = None,
    today: dt.date | None = None,
) -> Scorecard:
    """Save a new version of ``branch``'s scorecard for ``role``, in force from ``effective_from`` (the
    first day of a month after the current one; default next month). A version already scheduled for
    that date (not yet in force) is replaced; versions in force are never changed."""
    if not branches_for(actor, Cap.SUPERVISE).filter(pk=branch.pk).exists():
        raise DomainError(_("您没有配置该营业部考核方案的权限。"), code="forbidden")
    if role not in DEFAULT_SCORECARDS and not registry.for_role(role):
        raise DomainError(_("角色 %(r)s 没有可用的考核指标。") % {"r": role}, field="role")
    today = today or timezone.localdate()
    earliest = earliest_effective(today)
    effective_from = effective_from or earliest
    if effective_from != month_start(effective_from):
        raise DomainError(_("生效日期必须是某月 1 日。"), field="effective_from")
    if effective_from < earliest:
        raise DomainError(
            _("考核方案的调整只能从下一个考核期起生效（最早 %(d)s），不能改变本期及以前的评分。")
            % {"d": earliest.isoformat()},
            field="effective_from",
        )
    if (effective_from - today).days > 366:
        raise DomainError(_("生效日期最多只能在一年以内。"), field="effective_from")
    validated = _validated_items(role, items)
    note = (note or "").strip()[:200]
    card = (
        Scorecard.objects.select_for_update()
        .filter(branch=branch, role=role, effective_from=effective_from)
        .first()
    )
    before: dict[str, Any] = {}
    if card is None:
        card = Scorecard.objects.create(
            branch=branch, role=role, effective_from=effective_from, note=note, created_by=actor
        )
    else:
        before = {i.measure: [i.weight, i.target, i.threshold] for i in card.items.all()}
        card.items.all().delete()
        card.note, card.created_by = note, actor
        card.save(update_fields=["note", "created_by"])
    for item in validated:
        item.scorecard = card
    ScorecardItem.objects.bulk_create(validated)
    after = {i.measure: [i.weight, i.target, i.threshold] for i in validated}
    audit_log(
        actor=actor,
        action="supervision.scorecard_save",
        obj=card,
        changes={"role": role, "effective_from": str(effective_from), "items": [before, after]},
    )
    return card
