"""Fixtures and small factories of the off-site service tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from branchcare.core.sla import SHANGHAI
from branchcare.offsite import services_inquiries as inq
from branchcare.offsite.models import Inquiry, InquiryCategory

# A Wednesday, in service hours.
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def category(world):
    return InquiryCategory.objects.create(
        branch=world.b1,
        code="ACC",
        name="账户业务",
        first_response_hours=Decimal("1"),
        resolution_hours=Decimal("4"),
    )


def make_inquiry(world, *, actor="agent1", kind=Inquiry.Kind.INQUIRY, client=None, now=NOW, **kw):
    """An inquiry registered by ``actor`` (default agent1) for ``client`` (default client_m1)."""
    data = inq.InquiryInput(
        kind=kind,
        subject=kw.pop("subject", "询问转户流程"),
        client_id=(client or world.client_m1).pk,
        **kw,
    )
    return inq.inquiry_create(actor=world[actor], data=data, now=now)
