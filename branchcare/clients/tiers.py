"""Client tier (大户 / 中户 / 小户) from total assets and the branch's configured thresholds."""

from __future__ import annotations

from decimal import Decimal

from .models import Client


def tier_for(assets: Decimal, *, large: Decimal, medium: Decimal) -> str:
    if assets >= large:
        return Client.Tier.LARGE
    if assets >= medium:
        return Client.Tier.MEDIUM
    return Client.Tier.SMALL
