"""Prospect services: dedup, follow-ups and stages, claim / assign, pool reclaim, conversion credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from branchcare.clients import services as client_services
from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog, Notification, TransitionLog
from branchcare.prospects import services as svc
from branchcare.prospects.models import Prospect, ProspectFollowUp, ProspectSettings
from branchcare.testing.factories import ClientFactory, HoldingFactory, SecurityFactory

from .conftest import make_partner, make_prospect

pytestmark = pytest.mark.django_db
St = Prospect.Stage


def _create(world, actor="broker1", **data):
    base = {"name": "新客户", "phone": "139 1111 2222", "source": "walk_in", "segment": "price"}
    base.update(data)
    return svc.prospect_create(actor=world[actor], branch=world.b1, data=base, owner=world[actor])


# --- creation and dedup ------------------------------------------------------------------------------------


def test_create_normalises_phone_and_takes_partner_rate(world, pw):
    p = _create(world, phone="+86 139-1111-2222", source="partner", referral_code="dzh01")
    assert p.phone == "13911112222"
    assert p.partner == pw["partner"] and p.offered_rate == Decimal("0.1500")
    assert p.owner == world["broker1"] and p.stage == St.LEAD
    assert AuditLog.objects.filter(action="prospects.create", object_id=str(p.pk)).exists()


def test_duplicate_phone_of_a_prospect_is_refused_naming_it_masked(world, pw):
    before = Prospect.objects.count()
    with pytest.raises(DomainError) as exc:
        _create(world, actor="manager1", phone="139-0000-0001")
    assert exc.value.field == "phone"
    msg = exc.value.message
    assert f"#{pw['broker'].pk}" in msg and "赵*" in msg and "139****0001" in msg and "赵一" not in msg
    assert Prospect.objects.count() == before


def test_duplicate_across_branches_of_the_company_is_refused(world, pw):
    with pytest.raises(DomainError):
        _create(world, phone="13900000005")  # B002's prospect


def test_phone_of_an_existing_client_is_refused(world, pw):
    before = Prospect.objects.count()
    with pytest.raises(DomainError) as exc:
        _create(world, phone="13812345678")  # client_m1 张三
    assert "已是本公司客户" in exc.value.message and world.client_m1.client_no in exc.value.message
    assert "张*" in exc.value.message and "138****5678" in exc.value.message
    assert Prospect.objects.count() == before


def test_id_number_of_an_existing_client_is_refused(world, pw):
    with pytest.raises(DomainError) as exc:
        _create(world, id_number="310101199001011234")
    assert exc.value.field == "id_number"


def test_bad_referral_codes_are_refused(world, pw):
    make_partner(world.b1, referral_code="OLD01", agreement_end=timezone.localdate() - dt.timedelta(days=1))
    make_partner(world.b1, referral_code="OFF01", active=False)
    for code, words in (("", "推荐码"), ("NOPE", "不存在"), ("OLD01", "有效期"), ("OFF01", "停止合作"),
                        ("XH01", "不存在")):  # fmt: skip
        with pytest.raises(DomainError) as exc:
            _create(world, source="partner", referral_code=code)
        assert words in exc.value.message and exc.value.field == "referral_code"
    assert not Prospect.objects.filter(phone="13911112222").exists()


def test_referral_needs_a_premium_client(world, pw):
    with pytest.raises(DomainError):
        _create(world, source="referral", referrer=world.client_m1)
    Client.objects.filter(pk=world.client_m1.pk).update(is_premium=True)
    world.client_m1.refresh_from_db()
    p = _create(world, source="referral", referrer=world.client_m1, segment="advice")
    assert p.referrer == world.client_m1


def test_update_rechecks_duplicates(world, pw):
    p = pw["manager"]
    with pytest.raises(DomainError):
        svc.prospect_update(actor=world["manager1"], prospect=p, data={"phone": "13900000001"})
    p = svc.prospect_update(actor=world["manager1"], prospect=p, data={"phone": "13900000002", "notes": "改"})
    assert p.notes == "改"


def test_only_owner_or_director_edits(world, pw):
    with pytest.raises(DomainError) as exc:
        svc.prospect_update(actor=world["manager2"], prospect=pw["manager"], data={"notes": "x"})
    assert exc.value.code == "forbidden"
    svc.prospect_update(actor=world["director"], prospect=pw["manager"], data={"notes": "经理批注"})


# --- follow-ups, stages, claim, assign ---------------------------------------------------------------------


def test_followup_moves_a_lead_to_contacted_and_sets_next_due(world, pw):
    p = pw["broker"]
    due = timezone.localdate() + dt.timedelta(days=3)
    svc.followup_log(actor=world["broker1"], prospect=p, notes="电话介绍低佣方案", next_due=due)
    p.refresh_from_db()
    assert p.stage == St.CONTACTED and p.next_follow_up_due == due and p.reached == 1
    log = TransitionLog.objects.get(object_type="prospects.prospect", object_id=str(p.pk))
    assert log.transition == "contact" and log.actor == world["broker1"]
    svc.followup_log(actor=world["broker1"], prospect=p, notes="来营业部面谈", step="visit")
    p.refresh_from_db()
    assert p.stage == St.VISITED and ProspectFollowUp.objects.filter(prospect=p).count() == 2


def test_followup_refusals_change_nothing(world, pw):
    p = pw["broker"]
    with pytest.raises(DomainError):
        svc.followup_log(actor=world["broker1"], prospect=p, notes="  ")
    with pytest.raises(DomainError):
        svc.followup_log(
            actor=world["broker1"],
            prospect=p,
            notes="x",
            next_due=timezone.localdate() - dt.timedelta(days=1),
        )
    with pytest.raises(DomainError):
        svc.followup_log(actor=world["manager1"], prospect=p, notes="not mine")
    p.refresh_from_db()
    assert p.stage == St.LEAD and not ProspectFollowUp.objects.exists()


def test_lose_needs_a_reason_and_reopen(world, pw):
    p = pw["manager"]
    with pytest.raises(DomainError):
        svc.prospect_transition(actor=world["manager1"], prospect=p, name="lose")
    p = svc.prospect_transition(actor=world["manager1"], prospect=p, name="lose", note="已在他处开户")
    assert p.stage == St.LOST
    p = svc.prospect_transition(actor=world["manager1"], prospect=p, name="reopen")
    assert p.stage == St.LEAD
    with pytest.raises(DomainError):
        svc.prospect_transition(actor=world["manager1"], prospect=p, name="open_account")


def test_claim_from_pool_once(world, pw):
    p = pw["pool"]
    with pytest.raises(DomainError):
        svc.followup_log(actor=world["broker1"], prospect=p, notes="x")
    svc.prospect_claim(actor=world["broker1"], prospect=p)
    p.refresh_from_db()
    assert p.owner == world["broker1"]
    with pytest.raises(DomainError) as exc:
        svc.prospect_claim(actor=world["manager1"], prospect=p)
    assert exc.value.code == "conflict"
    with pytest.raises(DomainError):
        svc.prospect_claim(actor=world["director"], prospect=pw["manager"])


def test_director_assigns_and_notifies(world, pw):
    p = pw["pool"]
    svc.prospect_assign(actor=world["director"], prospect=p, owner=world["manager2"])
    p.refresh_from_db()
    assert p.owner == world["manager2"]
    assert Notification.objects.filter(recipient=world["manager2"]).exists()
    with pytest.raises(DomainError):
        svc.prospect_assign(actor=world["director"], prospect=p, owner=world["consultant1"])
    with pytest.raises(DomainError):
        svc.prospect_assign(actor=world["director"], prospect=p, owner=world["b2manager1"])
    with pytest.raises(DomainError):
        svc.prospect_assign(actor=world["b2director"], prospect=p, owner=None)
    p.refresh_from_db()
    assert p.owner == world["manager2"]


# --- pool reclaim ------------------------------------------------------------------------------------------


def test_untouched_prospects_return_to_pool_and_owner_is_told(world, pw):
    now = timezone.now()
    stale = make_prospect(
        world.b1, owner=world["broker1"], name="久未联系", last_touched_at=now - dt.timedelta(days=8)
    )
    fresh = make_prospect(
        world.b1, owner=world["broker1"], name="刚联系", last_touched_at=now - dt.timedelta(days=6)
    )
    opened = make_prospect(
        world.b1, owner=world["broker1"], stage=St.OPENED, last_touched_at=now - dt.timedelta(days=30)
    )
    b2_stale = make_prospect(world.b2, owner=world["b2manager1"], last_touched_at=now - dt.timedelta(days=8))
    ProspectSettings.objects.create(branch=world.b2, reclaim_days=10)
    assert svc.pool_reclaim(now=now) == 1
    stale.refresh_from_db(), fresh.refresh_from_db(), opened.refresh_from_db(), b2_stale.refresh_from_db()
    assert stale.owner is None and stale.previous_owner == world["broker1"]
    assert fresh.owner == world["broker1"] and opened.owner == world["broker1"]
    assert b2_stale.owner == world["b2manager1"]  # B002 keeps prospects 10 days
    n = Notification.objects.get(recipient=world["broker1"])
    assert "退回公海" in n.title and "久未联系" in n.body
    assert AuditLog.objects.filter(action="prospects.reclaim", object_id=str(stale.pk)).exists()
    assert svc.pool_reclaim(now=now) == 0  # idempotent


def test_reclaim_days_setting(world, pw):
    with pytest.raises(DomainError):
        svc.settings_update(actor=world["broker1"], branch=world.b1, reclaim_days=3)
    with pytest.raises(DomainError):
        svc.settings_update(actor=world["director"], branch=world.b1, reclaim_days=0)
    svc.settings_update(actor=world["director"], branch=world.b1, reclaim_days=3)
    p = make_prospect(
        world.b1, owner=world["manager1"], last_touched_at=timezone.now() - dt.timedelta(days=4)
    )
    svc.pool_reclaim()
    p.refresh_from_db()
    assert p.owner is None


def test_reclaim_task_runs(world, pw):
    from branchcare.prospects.tasks import reclaim_untouched_prospects

    make_prospect(world.b1, owner=world["manager1"], last_touched_at=timezone.now() - dt.timedelta(days=9))
    reclaim_untouched_prospects()
    assert Prospect.objects.filter(owner__isnull=True, branch=world.b1).count() == 2


# --- conversion --------------------------------------------------------------------------------------------


def test_client_created_by_form_converts_the_prospect_with_credit_and_rate(world, pw):
    p = pw["broker"]
    c = client_services.client_create(
        actor=world["director"], branch=world.b1,
        data={"client_no": "990001", "name": "赵一", "phone": "13900000001", "total_assets": Decimal("0")},
    )  # fmt: skip
    p.refresh_from_db()
    c.refresh_from_db()
    assert p.client == c and p.stage == St.OPENED and p.converted_at is not None
    assert p.credited_partner == pw["partner"] and p.credited_owner == world["broker1"]
    assert c.commission_rate == Decimal("0.1500")
    audit = AuditLog.objects.get(action="client.commission_rate", object_id=str(c.pk))
    assert audit.changes["commission_rate"][1] == "0.1500"
    log = TransitionLog.objects.get(object_id=str(p.pk), transition="open_account")
    assert log.to_state == "opened" and "990001" in log.note
    assert Notification.objects.filter(recipient=world["broker1"], title__contains="赵一").exists()


def test_advice_seeker_is_offered_premium(world, pw):
    p = make_prospect(world.b1, owner=world["manager1"], phone="13900000077", segment="advice", name="吴咨询")
    ClientFactory(branch=world.b1, phone="13900000077", id_number="")
    client_services_convert = svc.convert_clients(client_ids=list(Client.objects.filter(phone="13900000077").values_list("pk", flat=True)), actor=world["director"])  # fmt: skip
    assert client_services_convert == 1
    p.refresh_from_db()
    assert p.premium_offered and p.stage == St.FUNDED  # the factory client has assets
    n = Notification.objects.get(recipient=world["manager1"])
    assert "高端" in n.body and "吴咨询" in n.body


def test_match_by_id_number(world, pw):
    p = make_prospect(world.b1, owner=world["broker1"], phone="13900000088", id_number="110101199001010011")
    c = ClientFactory(branch=world.b1, phone="13700000000", id_number="110101199001010011", total_assets=0)
    svc.convert_clients(client_ids=[c.pk], actor=None)
    p.refresh_from_db()
    assert p.client_id == c.pk and p.stage == St.OPENED


@pytest.mark.django_db(transaction=True)
def test_client_import_converts_in_bulk(world, tmp_path):
    from .conftest import make_partner

    partner = make_partner(world.b1, referral_code="IMP01", offered_rate=Decimal("0.1800"))
    a = make_prospect(world.b1, owner=world["broker1"], phone="13900000101", source="partner", partner=partner,
                      offered_rate=Decimal("0.1800"))  # fmt: skip
    b = make_prospect(world.b1, owner=world["manager1"], phone="13900000102", segment="advice")
    untouched = make_prospect(world.b1, owner=world["manager1"], phone="13900000103")
    f = tmp_path / "clients.csv"
    f.write_text(
        "客户号,姓名,手机,证件号码,资产,客户经理,开户日期,风险等级\n"
        "880101,孙八,13900000101,,50000,,2026-01-05,C2\n"
        "880102,周九,13900000102,,0,,2026-01-05,C3\n"
        "880103,郑十,13600000000,,1000,,2026-01-05,C3\n",
        encoding="utf-8",
    )
    call_command("import_clients", str(f), "--branch", world.b1.code)
    a.refresh_from_db(), b.refresh_from_db(), untouched.refresh_from_db()
    assert a.client.client_no == "880101" and a.stage == St.FUNDED and a.credited_partner == partner
    assert b.client.client_no == "880102" and b.stage == St.OPENED and b.premium_offered
    assert untouched.client_id is None and untouched.stage == St.LEAD
    assert Client.objects.get(client_no="880101").commission_rate == Decimal("0.1800")
    assert TransitionLog.objects.filter(workflow="prospect", transition="open_account").count() == 2


def test_manual_link_and_refusals(world, pw):
    p = pw["broker"]
    with pytest.raises(DomainError):
        svc.prospect_link_client(actor=world["broker1"], prospect=p, client_no="NOPE")
    with pytest.raises(DomainError):
        svc.prospect_link_client(actor=world["broker1"], prospect=p, client_no=world.client_b2.client_no)
    with pytest.raises(DomainError):
        svc.prospect_link_client(actor=world["manager1"], prospect=p, client_no=world.client_m2.client_no)
    p.refresh_from_db()
    assert p.client_id is None
    p = svc.prospect_link_client(actor=world["broker1"], prospect=p, client_no=world.client_m2.client_no)
    assert p.client == world.client_m2 and p.stage == St.FUNDED  # client_m2 has assets
    world.client_m2.refresh_from_db()
    assert world.client_m2.commission_rate == Decimal("0.1500")
    with pytest.raises(DomainError):  # already linked to another prospect
        svc.prospect_link_client(
            actor=world["manager1"], prospect=pw["manager"], client_no=world.client_m2.client_no
        )


def test_stages_sync_funded_then_active(world, pw):
    p = pw["broker"]
    c = ClientFactory(branch=world.b1, phone="13700000001", total_assets=0)
    svc.prospect_link_client(actor=world["broker1"], prospect=p, client_no=c.client_no)
    p.refresh_from_db()
    assert p.stage == St.OPENED
    Client.objects.filter(pk=c.pk).update(total_assets=Decimal("200000"))
    assert svc.stages_sync() == 1
    p.refresh_from_db()
    assert p.stage == St.FUNDED and p.reached == 4
    HoldingFactory(client=c, security=SecurityFactory(code="600000"), quantity=100, cost_price=Decimal("10"))
    assert svc.stages_sync() == 1
    p.refresh_from_db()
    assert p.stage == St.ACTIVE
    assert svc.stages_sync() == 0


def test_partner_management_is_for_the_director(world, pw):
    with pytest.raises(DomainError):
        svc.partner_create(actor=world["broker1"], branch=world.b1, data={"name": "x", "referral_code": "X1"})
    with pytest.raises(DomainError) as exc:
        svc.partner_create(
            actor=world["director"], branch=world.b1, data={"name": "x", "referral_code": "dzh01"}
        )
    assert exc.value.field == "referral_code"
    p = svc.partner_create(actor=world["director"], branch=world.b1,
                           data={"name": "电脑城", "kind": "computer_shop", "referral_code": "pc01"})  # fmt: skip
    assert p.referral_code == "PC01"
    p = svc.partner_update(actor=world["director"], partner=p, data={"active": False})
    assert not p.active and p.referral_code == "PC01"
    with pytest.raises(DomainError):
        svc.partner_update(actor=world["b2director"], partner=p, data={"active": True})
