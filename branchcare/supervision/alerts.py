"""Alerts and the daily digest (督导提醒 / 每日督导简报).

Every morning each person with overdue work (the live dashboard's overdue counters) or a quota shortfall
on the previous day (from the rollups) gets one in-app message (and e-mail; the WeCom webhook when one
is configured), and each branch's directors get a digest of everyone's items — escalation. Idempotent per
day: an :class:`AlertLog` row per (day, recipient, kind) is claimed before sending, so a second run the
same day sends nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core.audit import audit_log
from branchcare.core.notify import notify
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, Role, User

from . import live
from .measures import TZ
from .models import AlertLog, DailyMeasure

QUOTA_MEASURES = {"visits_vs_quota": gettext_lazy("拜访"), "patrols_vs_quota": gettext_lazy("巡视")}


@dataclass
class PersonAlerts:
    employee: User
    lines: list[str] = field(default_factory=list)


def channels() -> tuple[str, ...]:
    out = ["email"]
    if settings.BRANCHCARE.get("WEBHOOK_URL"):
        out.append("webhook")
    return tuple(out)


def directors_of(branch: Branch) -> list[User]:
    role_ids = [r.pk for r in Role.objects.all() if Cap.SUPERVISE in (r.capabilities or [])]
    return list(User.objects.filter(branch=branch, is_active=True, roles__in=role_ids).distinct())


def branch_alerts(branch: Branch, now: dt.datetime) -> dict[int, PersonAlerts]:
    """Per person: overdue work now (each overdue counter) and yesterday's quota shortfalls."""
    today = now.astimezone(TZ).date()
    yesterday = today - dt.timedelta(days=1)
    counts = live.live_counts([branch.pk], now)
    labels = {c.key: c.label for s in live.sources().values() for c in s.counters if c.column == "overdue"}
    out: dict[int, PersonAlerts] = {}
    people = User.objects.in_bulk(
        {k[1] for k in counts}
        | set(
            DailyMeasure.objects.filter(
                branch=branch, date=yesterday, measure__in=list(QUOTA_MEASURES)
            ).values_list("employee_id", flat=True)
        )
    )
    for (_b, emp), person in counts.items():
        for key, label in labels.items():
            n = person.counts.get(key, 0)
            if n and emp in people:
                out.setdefault(emp, PersonAlerts(people[emp])).lines.append(
                    _("%(label)s %(n)s 件") % {"label": label, "n": n}
                )
    for row in DailyMeasure.objects.filter(branch=branch, date=yesterday, measure__in=list(QUOTA_MEASURES)):
        if row.denominator and row.numerator < row.denominator and row.employee_id in people:
            out.setdefault(row.employee_id, PersonAlerts(people[row.employee_id])).lines.append(
                _("%(d)s %(what)s %(n)g / 定额 %(q)g，未达标")
                % {"d": yesterday.isoformat(), "what": QUOTA_MEASURES[row.measure], "n": row.numerator,
                   "q": row.denominator}
            )  # fmt: skip
    return out


def _claim(day: dt.date, recipient: User, kind: str, items: int) -> bool:
    """Record that ``recipient`` gets ``kind`` for ``day``; False when already sent (idempotence)."""
    try:
        with transaction.atomic():
            AlertLog.objects.create(date=day, recipient=recipient, kind=kind, items=items)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def send_daily_alerts(*, now: dt.datetime | None = None) -> int:
    """Send today's alerts and digests for every branch; returns how many messages were sent."""
    now = now or timezone.now()
    today = now.astimezone(TZ).date()
    sent = 0
    url = reverse("supervision:dashboard")
    for branch in Branch.objects.order_by("code"):
        per_person = branch_alerts(branch, now)
        for _emp_id, alerts in per_person.items():
            if not _claim(today, alerts.employee, "person", len(alerts.lines)):
                continue
            notify(
                recipients=[alerts.employee],
                title=_("督导提醒：您有 %(n)s 项待处理") % {"n": len(alerts.lines)},
                body="\n".join(alerts.lines),
                url=url,
                kind="warning",
                channels=channels(),
            )
            sent += 1
        if not per_person:
            continue
        lines = [f"{a.employee}：{'；'.join(a.lines)}" for a in per_person.values()]
        for director in directors_of(branch):
            if not _claim(today, director, "digest", len(lines)):
                continue
            notify(
                recipients=[director],
                title=_("每日督导简报 %(d)s：%(n)s 人有逾期或未达标事项")
                % {"d": today.isoformat(), "n": len(per_person)},
                body="\n".join(lines),
                url=url,
                kind="warning",
                channels=channels(),
            )
            sent += 1
        audit_log(
            actor=None,
            action="supervision.daily_alerts",
            object_type="org.branch",
            object_id=str(branch.pk),
            object_repr=str(branch),
            branch_id=branch.pk,
            changes={"date": today.isoformat(), "people": len(per_person)},
        )
    return sent
