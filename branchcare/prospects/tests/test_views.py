"""Prospect pages and API: the wiring of the main flows, the import, the reports and bounded query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from branchcare.clients.models import Client
from branchcare.prospects import selectors_reports as rep
from branchcare.prospects import services as svc
from branchcare.prospects.models import Prospect
from branchcare.testing.factories import ClientFactory

from .conftest import make_partner, make_prospect

pytestmark = pytest.mark.django_db
St = Prospect.Stage


def test_broker_registers_a_partner_prospect_and_logs_a_follow_up(world, pw, login):
    c = login("broker1")
    r = c.post(reverse("prospects:new"), {
        "name": "冯十一", "phone": "139 0000 0099", "source": "partner", "referral_code": "DZH01", "segment": "price",
    })  # fmt: skip
    p = Prospect.objects.get(phone="13900000099")
    assert r.status_code == 302 and r["Location"] == reverse("prospects:detail", args=[p.pk])
    assert p.owner == world["broker1"] and p.partner == pw["partner"]
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    c.post(
        reverse("prospects:followup", args=[p.pk]), {"channel": "phone", "notes": "介绍佣金", "next_due": due}
    )
    p.refresh_from_db()
    assert p.stage == St.CONTACTED
    page = c.get(reverse("prospects:detail", args=[p.pk])).content.decode()
    assert "介绍佣金" in page and "已联系" in page


def test_duplicate_shows_the_masked_existing_record_next_to_the_field(world, pw, login):
    r = login("manager1").post(reverse("prospects:new"), {
        "name": "重复", "phone": "13812345678", "source": "walk_in", "segment": "price",
    })  # fmt: skip
    assert r.status_code == 400
    body = r.content.decode()
    assert "已是本公司客户" in body and "138****5678" in body and 'data-field-error="phone"' in body


def test_phones_are_masked_without_personal_data_permission(world, pw, login):
    # the director holds PERSONAL_DATA_VIEW; a role without it sees masked numbers
    from branchcare.org.models import Role

    role = Role.objects.get(code="manager")
    role.capabilities = [c for c in role.capabilities if c != "personal_data.view"]
    role.save()
    body = login("manager1").get(reverse("prospects:list") + "?view=pool").content.decode()
    assert "139****0004" in body and "13900000004" not in body


def test_claim_and_link_through_the_pages(world, pw, login):
    c = login("broker1")
    c.post(reverse("prospects:claim", args=[pw["pool"].pk]))
    assert Prospect.objects.get(pk=pw["pool"].pk).owner == world["broker1"]
    client = ClientFactory(branch=world.b1, phone="13700000009", total_assets=0)
    c.post(reverse("prospects:link", args=[pw["broker"].pk]), {"client_no": client.client_no})
    p = Prospect.objects.get(pk=pw["broker"].pk)
    assert p.client == client and p.stage == St.OPENED


def test_director_assigns_and_changes_settings(world, pw, login):
    c = login("director")
    c.post(reverse("prospects:assign", args=[pw["pool"].pk]), {"owner": world["manager2"].pk})
    assert Prospect.objects.get(pk=pw["pool"].pk).owner == world["manager2"]
    c.post(reverse("prospects:settings"), {"reclaim_days": "5"})
    assert svc.settings_for(world.b1).reclaim_days == 5


def test_director_creates_and_edits_a_partner(world, pw, login):
    c = login("director")
    r = c.post(reverse("prospects:partner_new"), {"name": "恒生咨询", "kind": "consulting", "referral_code": "hs01",
                                                   "offered_rate": "0.2", "active": "on"})  # fmt: skip
    assert r.status_code == 302
    partner = world.b1.partners.get(referral_code="HS01")
    r = c.post(reverse("prospects:partner_edit", args=[partner.pk]), {
        "name": "恒生咨询", "kind": "consulting", "referral_code": "HS01", "offered_rate": "0.25",
    })  # fmt: skip
    partner.refresh_from_db()
    assert partner.offered_rate == Decimal("0.2500") and not partner.active


# --- import ------------------------------------------------------------------------------------------------


def _upload(c, content: str, action: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile("list.csv", content.encode("utf-8"), content_type="text/csv")
    return c.post(reverse("prospects:import"), {"file": f, "action": action})


def test_import_preview_then_confirm(world, pw, login, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    c = login("broker1")
    csv = "姓名,手机,来源,推荐码,客户类型\n陈一,13900000201,合作伙伴推荐,DZH01,价格敏感型\n陈二,13900000202,营销活动,,咨询服务型\n"
    r = _upload(c, csv, "preview")
    assert r.status_code == 302
    assert not Prospect.objects.filter(phone__in=["13900000201", "13900000202"]).exists()
    job_url = r["Location"]
    assert "确认导入" in c.get(job_url).content.decode()
    r = c.post(job_url)
    rows = Prospect.objects.filter(phone__in=["13900000201", "13900000202"]).order_by("phone")
    assert [p.owner for p in rows] == [world["broker1"]] * 2
    assert rows[0].partner == pw["partner"] and rows[0].offered_rate == Decimal("0.1500")
    assert rows[1].segment == "advice" and rows[1].source == "event"


def test_import_with_a_duplicate_writes_nothing(world, pw, login, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    c = login("broker1")
    csv = "姓名,手机\n新人,13900000301\n张三,13812345678\n新人二,13900000301\n"
    r = _upload(c, csv, "import")
    page = c.get(r["Location"]).content.decode()
    assert "已是本公司客户" in page
    from branchcare.core.models import ImportJob

    job = ImportJob.objects.get(kind="prospects")
    assert job.error_count == 2 and job.status == ImportJob.Status.FAILED
    assert not Prospect.objects.filter(phone="13900000301").exists()


def test_director_import_goes_to_named_owner_or_pool(world, pw, login, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    c = login("director")
    csv = "姓名,手机,负责人\n甲,13900000401,manager1\n乙,13900000402,\n"
    _upload(c, csv, "import")
    assert Prospect.objects.get(phone="13900000401").owner == world["manager1"]
    assert Prospect.objects.get(phone="13900000402").owner is None


# --- reports -----------------------------------------------------------------------------------------------


@pytest.fixture
def funnel(world, pw):
    partner = pw["partner"]
    for _i in range(6):
        make_prospect(
            world.b1, owner=world["broker1"], source="partner", partner=partner, stage=St.CONTACTED, reached=1
        )
    for _i in range(3):
        c = ClientFactory(branch=world.b1, total_assets=Decimal("50000"))
        make_prospect(world.b1, owner=world["broker1"], source="partner", partner=partner, stage=St.FUNDED, reached=4,
                      client=c, converted_at=timezone.now(), credited_partner=partner)  # fmt: skip
    make_prospect(
        world.b1, owner=world["manager1"], source="event", segment="advice", stage=St.LOST, reached=2
    )
    return partner


def test_report_figures(world, funnel):
    data = rep.report(viewer=world["director"], period=rep.period_for("all"))
    league = {r["partner"].pk: r for r in data["partners"]}
    row = league[funnel.pk]
    assert row["referrals"] == 10 and row["opened"] == 3 and row["assets_wan"] == Decimal("15.00")
    partner_row = next(r for r in data["by_source"] if r["key"] == "partner")
    assert partner_row["counts"][:5] == [10, 9, 3, 3, 3]
    assert data["conversion"]["converted"] == 3 and data["conversion"]["total"] == 14
    assert data["conversion"]["median_days"] is not None
    owners = {r["user"].username: r for r in data["owners"]}
    assert owners["broker1"]["opened"] == 3
    # a broker sees only their own and the pool
    mine = rep.report(viewer=world["manager1"], period=rep.period_for("all"))
    assert mine["conversion"]["total"] == 3  # manager1's pw prospect, the pool one and the lost one


def test_reports_page_and_api(world, funnel, login):
    body = login("director").get(reverse("prospects:reports") + "?period=all").content.decode()
    assert 'id="report-data"' in body and "大智慧软件" in body and "echarts.min.js" in body
    c = APIClient()
    c.force_authenticate(world["broker1"])
    data = c.get("/api/v1/prospects/reports/?period=all").json()
    assert data["partners"][0]["name"] == "大智慧软件" and data["partners"][0]["opened"] == 3


def test_query_counts_are_bounded(world, funnel, login, django_assert_max_num_queries):
    for _i in range(20):
        make_prospect(world.b1, owner=world["broker1"], partner=make_partner(world.b1), source="partner")
    c = login("director")
    with django_assert_max_num_queries(20):
        assert c.get(reverse("prospects:list") + "?view=all").status_code == 200
    with django_assert_max_num_queries(20):
        assert c.get(reverse("prospects:reports") + "?period=all").status_code == 200
    with django_assert_max_num_queries(16):
        assert c.get(reverse("prospects:partners")).status_code == 200
    p = Prospect.objects.filter(owner=world["broker1"]).first()
    with django_assert_max_num_queries(20):
        assert c.get(reverse("prospects:detail", args=[p.pk])).status_code == 200
    api = APIClient()
    api.force_authenticate(world["director"])
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/prospects/prospects/").status_code == 200
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/prospects/reports/").status_code == 200


def test_api_create_dedup_and_follow_up(world, pw):
    c = APIClient()
    c.force_authenticate(world["broker1"])
    r = c.post("/api/v1/prospects/prospects/", {"name": "API客", "phone": "13900000001"}, format="json")
    assert r.status_code == 400 and "潜在客户" in r.json()["phone"][0]
    r = c.post("/api/v1/prospects/prospects/", {"name": "API客", "phone": "13900000501", "source": "partner",
                                                 "referral_code": "DZH01"}, format="json")  # fmt: skip
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["offered_rate"] == "0.1500" and r.json()["actions"]
    r = c.post(f"/api/v1/prospects/prospects/{pk}/follow-ups/", {"notes": "首次电话"}, format="json")
    assert r.status_code == 201
    assert c.get(f"/api/v1/prospects/prospects/{pk}/").json()["stage"] == "contacted"
    client = ClientFactory(branch=world.b1, phone="13700000501")
    r = c.post(f"/api/v1/prospects/prospects/{pk}/link/", {"client_no": client.client_no}, format="json")
    assert r.json()["stage"] == "funded" and Client.objects.get(pk=client.pk).commission_rate == Decimal(
        "0.1500"
    )


def test_demo_data_is_idempotent(world):
    from branchcare.prospects.demo import seed_demo

    for _i in range(8):
        ClientFactory(branch=world.b1, manager=world["manager1"])
    first = seed_demo(users=world.users, today=timezone.localdate(), seed=1)
    assert first["prospects.partners"] == 3 and first["prospects.prospects"] == 40
    qs = Prospect.objects.filter(branch=world.b1)
    assert qs.filter(owner__isnull=True).exists() and qs.filter(client__isnull=False).count() >= 3
    again = seed_demo(users=world.users, today=timezone.localdate(), seed=1)
    assert again["prospects.prospects"] == 0 and qs.count() == 40


def test_api_odd_filters_and_plain_follow_up_list(world, pw):
    api = APIClient()
    api.force_authenticate(world["director"])
    for query in ("partner=651666442499224240128", "owner=²", "q=%00赵"):
        r = api.get(f"/api/v1/prospects/prospects/?{query}")
        assert r.status_code == 200, query
    assert (
        api.get("/api/v1/prospects/prospects/?partner=651666442499224240128").json()["count"] == 4
    )  # the filter is ignored: all of B001
    rows = api.get(f"/api/v1/prospects/prospects/{pw['pool'].pk}/follow-ups/").json()
    assert rows == []
    # a prospect without partner or client answers null for their names
    detail = api.get(f"/api/v1/prospects/prospects/{pw['pool'].pk}/").json()
    assert detail["partner_name"] is None and detail["client_no"] is None
