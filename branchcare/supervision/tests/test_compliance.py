"""Compliance checks (counts and lists) and the one-client history export: complete, audited, masked per
the viewer's right."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branchcare.core.audit import audit_log
from branchcare.core.models import AuditLog
from branchcare.onsite.models import Advice, Visit
from branchcare.org.capabilities import Cap, Scope
from branchcare.org.models import Role
from branchcare.supervision import compliance as comp
from branchcare.testing.factories import UserFactory

from .fixtures import S, order


def advice(o, *, suitability=None, risk_warning="股市有风险，投资需谨慎。", delivered=True, version=1):
    return Advice.objects.create(
        order=o,
        version=version,
        consultant=o.consultant,
        practice_no="A0001",
        overall="继续持有",
        risk_warning=risk_warning,
        suitability={"passed": True, "lines": []} if suitability is None else suitability,
        delivered_at=timezone.now() if delivered else None,
    )


@pytest.fixture
def advices(world):
    c1 = world["consultant1"]
    ok = advice(order(world["manager1"], world.client_m1, S.DELIVERED, consultant=c1))
    no_check = advice(order(world["manager1"], world.client_m1, S.DELIVERED, consultant=c1), suitability={})
    no_warning = advice(
        order(world["manager2"], world.client_m2, S.DELIVERED, consultant=c1), risk_warning=""
    )
    blocked = advice(order(world["manager2"], world.client_m2, S.DELIVERED, consultant=c1),
                     suitability={"passed": False, "lines": []})  # fmt: skip
    advice(order(world["manager2"], world.client_m2, S.ADVICE_READY, consultant=c1), suitability={},
           delivered=False)  # not delivered: not a finding  # fmt: skip
    b2 = UserFactory(username="b2c", branch=world.b2, roles=["consultant"])
    advice(
        order(world["b2manager1"], world.client_b2, S.DELIVERED, consultant=b2), suitability={}
    )  # other branch
    return {"ok": ok, "no_check": no_check, "no_warning": no_warning, "blocked": blocked}


def _ids(check, world):
    return set(check.query([world.b1.pk], timezone.now()).values_list("pk", flat=True))


def test_advice_checks_find_exactly_the_offending_advice(world, advices):
    checks = {c.code: c for c in comp.checks()}
    assert _ids(checks["advice_no_suitability"], world) == {advices["no_check"].pk}
    assert _ids(checks["advice_no_risk_warning"], world) == {advices["no_warning"].pk}
    assert _ids(checks["advice_suitability_blocked"], world) == {advices["blocked"].pk}
    assert checks["advice_no_suitability"].must_be_zero


def test_compliance_page_shows_counts_and_lists(world, advices, login):
    client = login("compliance1")
    response = client.get(reverse("supervision:compliance"))
    counts = {r["check"].code: r["count"] for r in response.context["results"]}
    assert counts["advice_no_suitability"] == 1  # B002's is not compliance1's
    listing = client.get(reverse("supervision:compliance_check", args=["advice_no_suitability"]))
    assert listing.context["count"] == 1
    assert f"咨询单 #{advices['no_check'].order_id}" in listing.content.decode()
    api = client.get("/api/v1/supervision/compliance/checks/advice_no_suitability/").json()
    assert api["count"] == 1 and len(api["records"]) == 1


def test_a_missing_app_omits_its_checks(world, monkeypatch):
    from django.apps import apps

    real = apps.get_model

    def no_research(app_label, model_name=None, **kw):
        if app_label == "research" or (model_name is None and app_label.startswith("research.")):
            raise LookupError(app_label)
        return real(app_label, model_name, **kw)

    monkeypatch.setattr(apps, "get_model", no_research)
    codes = [c.code for c in comp.checks()]
    assert "research_unlicensed_source" not in codes and "advice_no_suitability" in codes


def test_history_contains_events_advice_and_audit_trail(world, advices):
    Visit.objects.create(branch=world.b1, manager=world["manager1"], client=world.client_m1,
                         at=timezone.now(), topic="季度回顾拜访")  # fmt: skip
    audit_log(
        actor=world["manager1"], action="client.update", obj=world.client_m1, changes={"notes": ["", "x"]}
    )
    history = comp.client_history(viewer=world["compliance1"], client=world.client_m1)
    titles = " ".join(line.title + line.detail for line in history.lines)
    assert "季度回顾拜访" in titles
    assert "投顾意见全文" in " ".join(line.title for line in history.lines)
    assert any(line.kind == "client.update" for line in history.audit)
    assert history.phone == "13812345678"  # compliance1 holds PERSONAL_DATA_VIEW


def test_history_masks_personal_data_without_the_right(world):
    Role.objects.create(code="auditor", name="稽核", scope=Scope.BRANCH,
                        capabilities=[Cap.CLIENTS_VIEW, Cap.COMPLIANCE_REVIEW])  # fmt: skip
    auditor = UserFactory(username="auditor1", branch=world.b1, roles=["auditor"])
    history = comp.client_history(viewer=auditor, client=world.client_m1)
    assert history.phone == "138****5678"
    assert "1234" in history.id_number and "19900101" not in history.id_number


def test_history_exports_are_audited(world, advices, login):
    client = login("compliance1")
    xlsx = client.get(reverse("supervision:history_xlsx", args=[world.client_m1.pk]))
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active.values)
    assert rows[0] == ("时间", "类别", "事项", "内容", "经办人")
    assert len(rows) > 2
    pdf = client.get(reverse("supervision:history_pdf", args=[world.client_m1.pk]))
    assert pdf.content.startswith(b"%PDF")
    logs = AuditLog.objects.filter(
        action="supervision.client_history_export", object_id=str(world.client_m1.pk)
    )
    assert sorted(log.changes["format"] for log in logs) == ["pdf", "xlsx"]
    assert all(log.actor_username == "compliance1" for log in logs)


def test_history_find_by_client_no(world, login):
    client = login("compliance1")
    response = client.get(reverse("supervision:history_find") + f"?client_no={world.client_m1.client_no}")
    assert response["Location"] == reverse("supervision:history", args=[world.client_m1.pk])
    missing = client.get(reverse("supervision:history_find") + f"?client_no={world.client_b2.client_no}")
    assert missing["Location"].startswith(reverse("supervision:compliance"))
