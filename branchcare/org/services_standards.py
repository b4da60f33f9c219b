"""Writes to the service standards (服务标准) and the trading calendar (交易日历). Atomic, audited.

A branch's standard is versioned: a version whose effective date has come is never changed; a change
creates a new version from a chosen date, and a version still in the future may be edited in place.
The calendar's overrides and coverage are company-wide and kept by company-scope administrators.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core.audit import audit_log, diff, snapshot
from branchcare.core.errors import DomainError

from .calendar import library_days, library_range
from .capabilities import Cap, Scope
from .models import Branch, CalendarCoverage, CalendarOverride, ServiceStandard, User
from .scope import branches_for

STANDARD_FIELDS = [
    "visits_per_day",
    "patrols_per_day",
    "contact_interval_large_days",
    "contact_interval_medium_days",
    "contact_interval_small_days",
    "consultation_deadline_hours",
    "service_hours",
    "meeting_weekday",
    "meeting_time",
    "meeting_tiers",
    "holding_drop_alert_pct",
    "note",
]
TIERS = ["large", "medium", "small"]
MAX_WINDOWS = 6
MAX_EFFECTIVE_AHEAD_DAYS = 366  # a version may be scheduled at most a year ahead
MAX_OVERRIDE_AHEAD_DAYS = 3 * 366
MAX_COVERAGE_AHEAD_DAYS = 2 * 366
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def is_calendar_admin(user: User) -> bool:
    """Whether ``user`` may change the company-wide trading calendar (company-scope ORG_CONFIGURE)."""
    return user.scope_for(Cap.ORG_CONFIGURE) == Scope.COMPANY


def _require_calendar_admin(actor: User) -> None:
    if not is_calendar_admin(actor):
        raise DomainError(_("只有公司级系统管理员可以维护交易日历。"), code="forbidden")


# --- service standards ---------------------------------------------------------------------------------


def _int_in(data: dict[str, Any], field: str, lo: int, hi: int, message: str) -> int:
    try:
        value = int(data[field])
    except (TypeError, ValueError):
        raise DomainError(message, field=field) from None
    if not lo <= value <= hi:
        raise DomainError(message, field=field)
    return value


def _decimal_in(data: dict[str, Any], field: str, lo: Decimal, hi: Decimal, message: str) -> Decimal:
    try:
        value = Decimal(str(data[field]))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(message, field=field) from None
    if not value.is_finite() or not lo < value <= hi or value != value.quantize(Decimal("0.01")):
        raise DomainError(message, field=field)
    return value.quantize(Decimal("0.01"))


def _hhmm(text: Any, *, field: str = "service_hours") -> str:
    match = _HHMM.match(str(text).strip())
    if not match:
        message = (
            _("服务时段“%(t)s”格式不对，请写成 09:30-11:30 这样的 24 小时制时间。")
            if field == "service_hours"
            else _("时间“%(t)s”格式不对，请写成 15:30 这样的 24 小时制时间。")
        )
        raise DomainError(message % {"t": text}, field=field)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def clean_service_hours(value: Any) -> list[list[str]]:
    """``[["09:30", "11:30"], …]`` sorted, each window well-formed, none overlapping; else DomainError."""
    if not isinstance(value, list | tuple) or not value:
        raise DomainError(_("请至少设置一个服务时段，例如 09:30-11:30。"), field="service_hours")
    if len(value) > MAX_WINDOWS:
        raise DomainError(
            _("服务时段最多 %(n)d 段，请合并相邻的时段。") % {"n": MAX_WINDOWS}, field="service_hours"
        )
    windows: list[list[str]] = []
    for window in value:
        if not isinstance(window, list | tuple) or len(window) != 2:
            raise DomainError(_("每个服务时段须有开始和结束时间，例如 09:30-11:30。"), field="service_hours")
        start, end = _hhmm(window[0]), _hhmm(window[1])
        if start >= end:
            raise DomainError(
                _("服务时段 %(s)s-%(e)s 的结束时间须晚于开始时间。") % {"s": start, "e": end},
                field="service_hours",
            )
        windows.append([start, end])
    windows.sort()
    for (s1, e1), (s2, e2) in zip(windows, windows[1:], strict=False):
        if s2 < e1:
            raise DomainError(
                _("服务时段 %(a)s 与 %(b)s 重叠，请调整。") % {"a": f"{s1}-{e1}", "b": f"{s2}-{e2}"},
                field="service_hours",
            )
    return windows


def _clean_standard(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a complete set of ``STANDARD_FIELDS`` values; returns them normalised."""
    out: dict[str, Any] = {
        "visits_per_day": _int_in(
            data, "visits_per_day", 1, 50, _("每日拜访客户数须是 1 到 50 之间的整数。")
        ),
        "patrols_per_day": _int_in(
            data, "patrols_per_day", 1, 20, _("每日巡视次数须是 1 到 20 之间的整数。")
        ),
    }
    for tier, label in (("large", _("大户")), ("medium", _("中户")), ("small", _("小户"))):
        field = f"contact_interval_{tier}_days"
        out[field] = _int_in(
            data, field, 1, 365, _("%(t)s最长联系间隔须是 1 到 365 之间的天数。") % {"t": label}
        )
    if out["contact_interval_large_days"] > out["contact_interval_medium_days"]:
        raise DomainError(
            _("大户的联系间隔不能长于中户：大户应联系得更频繁。"), field="contact_interval_large_days"
        )
    if out["contact_interval_medium_days"] > out["contact_interval_small_days"]:
        raise DomainError(
            _("中户的联系间隔不能长于小户：中户应联系得更频繁。"), field="contact_interval_medium_days"
        )
    out["consultation_deadline_hours"] = _decimal_in(
        data,
        "consultation_deadline_hours",
        Decimal("0"),
        Decimal("40"),
        _("咨询单办理时限须大于 0、不超过 40 个服务小时，最多两位小数。"),
    )
    out["service_hours"] = clean_service_hours(data["service_hours"])
    out["meeting_weekday"] = _int_in(data, "meeting_weekday", 0, 6, _("请选择交流会在星期几举行。"))
    meeting_time = data["meeting_time"]
    if isinstance(meeting_time, str):
        meeting_time = dt.time.fromisoformat(_hhmm(meeting_time, field="meeting_time"))
    if not isinstance(meeting_time, dt.time):
        raise DomainError(_("请填写交流会时间，例如 15:30。"), field="meeting_time")
    out["meeting_time"] = meeting_time.replace(second=0, microsecond=0, tzinfo=None)
    tiers = data["meeting_tiers"]
    if (
        not isinstance(tiers, list | tuple | set)
        or not tiers
        or not all(isinstance(t, str) and t in TIERS for t in tiers)
    ):
        raise DomainError(_("请至少选择一个受邀的客户层级（大户、中户、小户）。"), field="meeting_tiers")
    out["meeting_tiers"] = [t for t in TIERS if t in set(tiers)]
    out["holding_drop_alert_pct"] = _decimal_in(
        data,
        "holding_drop_alert_pct",
        Decimal("0"),
        Decimal("100"),
        _("持仓跌幅提醒须大于 0、不超过 100（%），最多两位小数。"),
    )
    note = str(data.get("note") or "").strip()
    if len(note) > 200:
        raise DomainError(_("调整说明最多 200 字。"), field="note")
    out["note"] = note
    return out


@transaction.atomic
def service_standard_save(
    *,
    actor: User,
    branch: Branch,
    data: dict[str, Any],
    effective_from: dt.date,
    today: dt.date | None = None,
) -> ServiceStandard:
    """Save ``branch``'s service standard effective from ``effective_from``.

    Creates a new version, or edits the version with that very date if it is still in the future.
    A version already in force (its date is today or earlier) is never changed, and a new version may
    not start in the past. ``data`` holds ``STANDARD_FIELDS`` values; missing ones are carried over
    from the version in force on ``effective_from``. Audited with the changed fields.
    """
    today = today or timezone.localdate()
    if not branches_for(actor, Cap.ORG_CONFIGURE).filter(pk=branch.pk).exists():
        raise DomainError(_("只能设置您管理的营业部的服务标准。"), field="branch")
    if effective_from < today:
        raise DomainError(
            _("生效日期不能早于今天（%(d)s）：已生效的标准不能追溯修改，请选择今天或以后的日期。")
            % {"d": today},
            field="effective_from",
        )
    if effective_from > today + dt.timedelta(days=MAX_EFFECTIVE_AHEAD_DAYS):
        raise DomainError(_("生效日期最多只能设在一年以内。"), field="effective_from")
    Branch.objects.select_for_update().get(pk=branch.pk)  # one writer per branch at a time
    versions = ServiceStandard.objects.filter(branch=branch)
    existing = versions.filter(effective_from=effective_from).first()
    if existing is not None and existing.effective_from <= today:
        raise DomainError(
            _("%(d)s 起生效的版本已经生效，不能修改；请选择以后的日期新建一个版本。") % {"d": effective_from},
            field="effective_from",
        )
    base = existing or versions.filter(effective_from__lte=effective_from).order_by("-effective_from").first()
    base = base or ServiceStandard(branch=branch)
    cleaned = _clean_standard({**snapshot_values(base), **data})

    if existing is not None:
        before = snapshot(existing, STANDARD_FIELDS)
        for key, value in cleaned.items():
            setattr(existing, key, value)
        existing.save()
        changes = diff(before, snapshot(existing, STANDARD_FIELDS))
        if changes:
            audit_log(actor=actor, action="service_standard.update", obj=existing, changes=changes)
        return existing

    if base.pk is not None and _same(snapshot_values(base), cleaned):
        raise DomainError(
            _("内容与 %(d)s 起生效的版本相同，无需新建版本。") % {"d": base.effective_from},
            field="effective_from",
        )
    standard = ServiceStandard.objects.create(
        branch=branch, effective_from=effective_from, created_by=actor, **cleaned
    )
    audit_log(
        actor=actor,
        action="service_standard.create",
        obj=standard,
        changes={
            "effective_from": [None, str(effective_from)],
            **diff(snapshot(base, STANDARD_FIELDS), snapshot(standard, STANDARD_FIELDS)),
        },
    )
    return standard


def snapshot_values(standard: ServiceStandard) -> dict[str, Any]:
    """The ``STANDARD_FIELDS`` values of ``standard`` as Python values (a form's initial data)."""
    return {name: getattr(standard, name) for name in STANDARD_FIELDS}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two sets of values set the same standard (the note aside)."""
    return all(str(a[k]) == str(b[k]) for k in STANDARD_FIELDS if k != "note")


# --- trading calendar ----------------------------------------------------------------------------------


@transaction.atomic
def calendar_override_add(
    *, actor: User, date: dt.date, kind: str, name: str, today: dt.date | None = None
) -> CalendarOverride:
    """Enter a holiday or an extra trading day the exchange calendar library does not know yet.

    Weekends never trade (a weekend make-up working day 调休 is still closed at the exchange), a date
    may carry one override, and an override that changes nothing is refused. Company-wide, audited.
    """
    _require_calendar_admin(actor)
    today = today or timezone.localdate()
    name = (name or "").strip()
    if kind not in CalendarOverride.Kind.values:
        raise DomainError(_("请选择类型：休市或交易日。"), field="kind")
    if not name:
        raise DomainError(_("请填写名称，例如“2027年元旦”。"), field="name")
    if len(name) > 50:
        raise DomainError(_("名称最多 50 字。"), field="name")
    if date < today:
        raise DomainError(_("不能修改已经过去的日期：历史期限已按当时的日历计算。"), field="date")
    if date > today + dt.timedelta(days=MAX_OVERRIDE_AHEAD_DAYS):
        raise DomainError(_("只能录入三年以内的日期。"), field="date")
    current = CalendarOverride.objects.select_for_update().filter(date=date).first()
    if current is not None:
        raise DomainError(
            _("%(d)s 已录入为“%(n)s”，如需更改请先删除该条。") % {"d": date, "n": current.name}, field="date"
        )
    first, last = library_range()
    if kind == CalendarOverride.Kind.TRADING_DAY:
        if date.weekday() >= 5:
            raise DomainError(
                _("交易所周六、周日不开市（调休上班的周末也休市），不能录入为交易日。"), field="date"
            )
        if date > last:
            raise DomainError(
                _("%(d)s 超出交易所日历库的范围：工作日在声明覆盖范围后自动按交易日计算，无需录入。")
                % {"d": date},
                field="date",
            )
        if date in library_days():
            raise DomainError(_("交易所日历已将 %(d)s 列为交易日，无需录入。") % {"d": date}, field="date")
    else:
        if date.weekday() >= 5:
            raise DomainError(_("%(d)s 是周末，本来就休市，无需录入。") % {"d": date}, field="date")
        if first <= date <= last and date not in library_days():
            raise DomainError(_("交易所日历已将 %(d)s 列为休市日，无需录入。") % {"d": date}, field="date")
    override = CalendarOverride.objects.create(date=date, kind=kind, name=name, created_by=actor)
    audit_log(
        actor=actor,
        action="calendar_override.add",
        obj=override,
        changes={"date": [None, str(date)], "kind": [None, kind], "name": [None, name]},
    )
    return override


@transaction.atomic
def calendar_override_remove(
    *, actor: User, override: CalendarOverride, today: dt.date | None = None
) -> None:
    """Delete an override of a date that has not yet passed. Company-wide, audited."""
    _require_calendar_admin(actor)
    today = today or timezone.localdate()
    locked = CalendarOverride.objects.select_for_update().filter(pk=override.pk).first()
    if locked is None:
        raise DomainError(_("该条例外已被删除。"), code="conflict")
    if locked.date < today:
        raise DomainError(_("不能删除已经过去的日期：历史期限已按当时的日历计算。"))
    audit_log(
        actor=actor,
        action="calendar_override.remove",
        obj=locked,
        changes={"date": [str(locked.date), None], "kind": [locked.kind, None], "name": [locked.name, None]},
    )
    locked.delete()


@transaction.atomic
def calendar_coverage_declare(
    *, actor: User, known_until: dt.date, note: str = "", today: dt.date | None = None
) -> CalendarCoverage:
    """Declare that the exchange's calendar has been entered up to ``known_until``.

    Past the library's last session, weekdays up to this date then count as trading days except the
    holidays entered as overrides; so the declaration is refused until at least one holiday has been
    entered in the extended range (every year starts with the 元旦 holiday). Declaring the library's own
    last session withdraws an extension. Company-wide, audited.
    """
    _require_calendar_admin(actor)
    today = today or timezone.localdate()
    note = (note or "").strip()[:200]
    _first, last = library_range()
    if known_until < last:
        raise DomainError(
            _("交易所日历库已覆盖到 %(d)s，声明的日期不能早于它。") % {"d": last}, field="known_until"
        )
    if known_until > today + dt.timedelta(days=MAX_COVERAGE_AHEAD_DAYS):
        raise DomainError(_("最多只能声明到两年以内。"), field="known_until")
    if (
        known_until > last
        and not CalendarOverride.objects.filter(
            kind=CalendarOverride.Kind.HOLIDAY, date__gt=last, date__lte=known_until
        ).exists()
    ):
        raise DomainError(
            _(
                "%(a)s 至 %(b)s 之间还没有录入任何休市日。请先按交易所公布的休市安排录入节假日"
                "（如元旦、春节、国庆），再声明覆盖范围。"
            )
            % {"a": last + dt.timedelta(days=1), "b": known_until},
            field="known_until",
        )
    previous = CalendarCoverage.objects.select_for_update().order_by("-created_at", "-id").first()
    coverage = CalendarCoverage.objects.create(known_until=known_until, note=note, created_by=actor)
    audit_log(
        actor=actor,
        action="calendar_coverage.declare",
        obj=coverage,
        changes={"known_until": [str(previous.known_until) if previous else str(last), str(known_until)]},
    )
    return coverage
