"""The client app's cards on each role's 工作台."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.core.workbench import WorkbenchCard, register
from branchcare.org.capabilities import Cap

from .selectors import client_base_qs, count_capped


def client_cards(user) -> list[WorkbenchCard]:
    if not user.has_cap(Cap.CLIENTS_VIEW):
        return []
    qs = client_base_qs(viewer=user).filter(status="active")
    cutoff = timezone.localdate() - dt.timedelta(days=settings.BRANCHCARE["RISK_ASSESSMENT_VALID_DAYS"])
    url = reverse("clients:list")
    total, capped = count_capped(qs, cap=100_000)
    large, _c = count_capped(qs.filter(tier="large"))
    expired, _c2 = count_capped(qs.filter(Q(risk_assessed_on__lt=cutoff) | Q(risk_assessed_on__isnull=True)))
    premium, _c3 = count_capped(qs.filter(is_premium=True))
    return [
        WorkbenchCard(
            title=_("我可查看的正常客户"),
            value=f"{total}{'+' if capped else ''}",
            unit=_("位"),
            url=url,
            icon="bi-people",
            order=10,
        ),
        WorkbenchCard(
            title=_("大户"),
            value=large,
            unit=_("位"),
            url=f"{url}?tier=large&status=active",
            icon="bi-star",
            order=11,
        ),
        WorkbenchCard(
            title=_("高端客户"),
            value=premium,
            unit=_("位"),
            url=f"{url}?premium=1&status=active",
            icon="bi-gem",
            tone="warning",
            order=12,
        ),
        WorkbenchCard(
            title=_("风险测评已过期"),
            value=expired,
            unit=_("位"),
            url=f"{url}?assessment_expired=1&status=active",
            icon="bi-exclamation-triangle",
            tone="danger",
            note=_("超过 2 年未重新测评，需提醒客户重新测评"),
            order=13,
        ),
    ]


register("clients", client_cards)
