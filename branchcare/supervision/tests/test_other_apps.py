"""Measures, live counters and compliance checks on the off-site and research apps' records (read-only):
arithmetic on known records and drill-downs equal to the counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.offsite.models import Inquiry, ReturnVisit, ReturnVisitRule
from branchcare.research.models import ResearchDelivery, ResearchItem, ResearchSource
from branchcare.supervision import compliance as comp
from branchcare.supervision import live
from branchcare.supervision import measures as registry
from branchcare.supervision.selectors import period_figures
from branchcare.supervision.services import rollup_recompute

from .fixtures import DAY, NOW, at


@pytest.fixture
def offsite(world):
    a = world["agent1"]
    base = {"branch": world.b1, "assignee": a, "subject": "咨询手续费", "created_at": at(24, 9)}
    closed = {**base, "state": Inquiry.State.CLOSED}
    ok = Inquiry.objects.create(**closed, resolution_due=at(24, 15), resolved_at=at(24, 11), survey_score=5,
                                survey_at=at(24, 16), first_response_due=at(24, 10), first_responded_at=at(24, 9, 30))  # fmt: skip
    late = Inquiry.objects.create(**closed, resolution_due=at(24, 12), resolved_at=at(24, 13), survey_score=2,
                                  survey_at=at(24, 17), first_response_due=at(24, 10))  # fmt: skip
    overdue = Inquiry.objects.create(**base, kind=Inquiry.Kind.COMPLAINT, resolution_due=at(24, 14),
                                     state=Inquiry.State.IN_PROGRESS)  # fmt: skip
    Inquiry.objects.create(**base, resolution_due=at(24, 14), state=Inquiry.State.CANCELLED)
    rule = ReturnVisitRule.objects.create(branch=world.b1, kind="new_account", name="新开户回访")
    rv = {"branch": world.b1, "rule": rule, "assignee": a, "due_on": DAY}
    ReturnVisit.objects.create(**rv, client=world.client_m1, state="done", completed_at=at(24, 10))
    missed = ReturnVisit.objects.create(**rv, client=world.client_m2)
    return {"ok": ok, "late": late, "overdue": overdue, "missed": missed}


def _row(world, code, who):
    return {r.employee_id: r for r in registry.get(code).compute(world.b1, DAY, DAY, NOW)}[world[who].pk]


def test_offsite_measures(world, offsite):
    r = _row(world, "inquiry_ontime", "agent1")
    assert (r.numerator, r.denominator) == (1, 3)  # ok on time; late and overdue not; cancelled excluded
    r = _row(world, "inquiry_first_response", "agent1")
    assert (r.numerator, r.denominator) == (1, 2)  # the third has no first-response deadline
    r = _row(world, "inquiry_satisfaction", "agent1")
    assert registry.get("inquiry_satisfaction").value(r.numerator, r.denominator) == 3.5
    r = _row(world, "return_visit_completion", "agent1")
    assert (r.numerator, r.denominator) == (1, 2)


def test_offsite_drill_downs_equal_the_rollups(world, offsite):
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    ids = [world["agent1"].pk]
    for code in (
        "inquiry_ontime",
        "inquiry_first_response",
        "inquiry_satisfaction",
        "return_visit_completion",
    ):
        m = registry.get(code)
        fig = period_figures(branch=world.b1, employee_ids=ids, first=DAY, last=DAY, codes=[code])[ids[0]][
            code
        ]
        for part in m.drill_parts:
            qs = m.drill(branch=world.b1, employee_ids=ids, first=DAY, last=DAY, part=part, now=NOW)
            assert qs.count() == (fig.numerator if part == "num" else fig.denominator), (code, part)


def test_offsite_live_counters_and_sla(world, offsite):
    counts = live.live_counts([world.b1.pk], NOW)[(world.b1.pk, world["agent1"].pk)].counts
    assert counts["inquiries_overdue"] == 1 and counts["return_visits_overdue"] == 1
    breaches = {c.key: n for _s, c, n in live.sla_breaches([world.b1.pk], NOW)}
    assert breaches["inquiries_overdue"] == 1


def test_offsite_compliance_checks(world, offsite):
    checks = {c.code: c for c in comp.checks()}
    complaints = checks["complaints_past_deadline"].query([world.b1.pk], NOW)
    assert list(complaints) == [offsite["overdue"]]
    missed = checks["return_visit_new_account"].query([world.b1.pk], NOW)
    assert list(missed) == [offsite["missed"]]


def test_research_output_and_unlicensed_source(world):
    own = ResearchSource.objects.create(branch=world.b1, kind="own", name="本部研究")
    lapsed = ResearchSource.objects.create(branch=world.b1, kind="external", name="某咨询公司", licence_no="L-1",
                                           contract_start=dt.date(2026, 1, 1), contract_end=dt.date(2026, 6, 30))  # fmt: skip
    r1 = world["researcher1"]
    items = [
        ResearchItem.objects.create(
            source=s,
            branch=world.b1,
            title=f"研报{i}",
            author=r1,
            state="published",
            published_at=at(24, 9 + i),
            published_on=DAY,
        )  # fmt: skip
        for i, s in enumerate([own, lapsed])
    ]
    r = _row(world, "research_output", "researcher1")
    assert r.numerator == 2
    ok = ResearchDelivery.objects.create(item=items[0], client=world.client_m1, branch=world.b1, channel="email",
                                         status="sent", delivered_at=timezone.now())  # fmt: skip
    bad = ResearchDelivery.objects.create(item=items[1], client=world.client_m1, branch=world.b1, channel="email",
                                          status="sent", delivered_at=timezone.now())  # fmt: skip
    check = {c.code: c for c in comp.checks()}["research_unlicensed_source"]
    found = list(check.query([world.b1.pk], timezone.now()))
    assert found == [bad] and ok not in found
    assert "到期" in check.describe(bad).detail
