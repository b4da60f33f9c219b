"""Factories and fixtures of the prospect tests (the app's own; the shared factories are not edited)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.prospects.models import Partner, Prospect

_seq = itertools.count(1)


def make_partner(branch, **kw) -> Partner:
    n = next(_seq)
    defaults = {
        "name": f"同花顺软件{n}店",
        "kind": Partner.Kind.SOFTWARE,
        "referral_code": f"P{n:04d}",
        "offered_rate": Decimal("0.2000"),
        "agreement_start": timezone.localdate() - dt.timedelta(days=30),
        "agreement_end": timezone.localdate() + dt.timedelta(days=300),
    }
    defaults.update(kw)
    return Partner.objects.create(branch=branch, **defaults)


def make_prospect(branch, **kw) -> Prospect:
    n = next(_seq)
    defaults = {
        "name": f"潜客{n}",
        "phone": f"139{n:08d}",
        "source": Prospect.Source.WALK_IN,
        "last_touched_at": timezone.now(),
    }
    defaults.update(kw)
    return Prospect.objects.create(branch=branch, **defaults)


@pytest.fixture
def pw(world):
    """A small prospect world: a partner of B001, prospects of broker1, manager1, the pool and B002."""
    partner = make_partner(world.b1, name="大智慧软件", referral_code="DZH01", offered_rate=Decimal("0.1500"))
    b2_partner = make_partner(world.b2, name="西湖电脑城", referral_code="XH01")
    return {
        "partner": partner,
        "b2_partner": b2_partner,
        "broker": make_prospect(world.b1, owner=world["broker1"], name="赵一", phone="13900000001",
                                source="partner", partner=partner, offered_rate=Decimal("0.1500")),
        "manager": make_prospect(world.b1, owner=world["manager1"], name="钱二", phone="13900000002"),
        "manager2": make_prospect(world.b1, owner=world["manager2"], name="孙三", phone="13900000003"),
        "pool": make_prospect(world.b1, owner=None, name="李四四", phone="13900000004"),
        "b2": make_prospect(world.b2, owner=world["b2manager1"], name="周五", phone="13900000005"),
    }  # fmt: skip
