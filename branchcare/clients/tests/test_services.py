from __future__ import annotations

from decimal import Decimal

import pytest

from branchcare.clients import services
from branchcare.clients.models import Client, Holding, Security
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.testing.factories import ClientFactory, SecurityFactory


def test_client_create_derives_pinyin_tail_and_tier_and_audits(world):
    # when
    c = services.client_create(
        actor=world["director"],
        branch=world.b1,
        data={
            "client_no": "88000001",
            "name": "欧阳娜娜",
            "phone": "139 1234 5678",
            "total_assets": Decimal("6000000"),
            "manager": world["manager1"],
        },
    )
    # then
    assert (c.name_pinyin, c.name_initials, c.phone_tail, c.tier) == ("ouyangnana", "oynn", "5678", "large")
    log = AuditLog.objects.get(action="client.create", object_id=str(c.pk))
    assert log.actor_username == "director"
    assert log.changes["phone"][1] == "139****5678"  # personal data masked in the audit log
    assert log.branch_id == world.b1.pk


def test_client_create_refuses_duplicate_client_no_and_writes_nothing(world):
    before = (Client.objects.count(), AuditLog.objects.count())
    with pytest.raises(DomainError) as exc:
        services.client_create(
            actor=world["director"],
            branch=world.b1,
            data={"client_no": world.client_m1.client_no, "name": "重复"},
        )
    assert exc.value.field == "client_no"
    assert (Client.objects.count(), AuditLog.objects.count()) == before


def test_client_create_refuses_manager_of_other_branch(world):
    with pytest.raises(DomainError) as exc:
        services.client_create(
            actor=world["director"],
            branch=world.b1,
            data={"client_no": "1", "name": "甲", "manager": world["b2manager1"]},
        )
    assert exc.value.field == "manager"
    assert not Client.objects.filter(client_no="1").exists()


def test_client_update_records_before_after_and_bumps_version(world):
    c = world.client_m1
    updated = services.client_update(
        actor=world["manager1"], client=c, data={"risk_level": "C5"}, expected_version=c.version
    )
    assert updated.version == c.version + 1
    log = AuditLog.objects.get(action="client.update", object_id=str(c.pk))
    assert log.changes == {"risk_level": ["C3", "C5"]}


def test_client_update_with_stale_version_is_refused_and_changes_nothing(world):
    c = world.client_m1
    services.client_update(actor=world["manager1"], client=c, data={"notes": "第一次"}, expected_version=1)
    with pytest.raises(DomainError) as exc:
        services.client_update(
            actor=world["director"], client=c, data={"notes": "第二次"}, expected_version=1
        )
    assert exc.value.code == "conflict"
    c.refresh_from_db()
    assert c.notes == "第一次"


def test_reassign_moves_only_clients_in_scope_and_audits_each(world):
    moved = services.clients_reassign(
        actor=world["director"],
        client_ids=[world.client_m1.pk, world.client_m2.pk],
        manager=world["manager2"],
    )
    assert moved == 1  # client_m2 already belongs to manager2
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager2"]
    assert AuditLog.objects.filter(action="client.reassign").count() == 1


def test_reassign_refuses_other_branch_client_and_changes_nothing(world):
    with pytest.raises(DomainError):
        services.clients_reassign(
            actor=world["director"],
            client_ids=[world.client_m1.pk, world.client_b2.pk],
            manager=world["manager2"],
        )
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager1"]
    assert not AuditLog.objects.filter(action="client.reassign").exists()


def test_tier_thresholds_recompute_every_client_of_the_branch_only(world):
    ClientFactory(branch=world.b1, total_assets=Decimal("800000"))  # medium at default thresholds
    b2_before = world.client_b2.tier
    changed = services.branch_tier_thresholds_update(
        actor=world["director"], branch=world.b1, large=Decimal("700000"), medium=Decimal("50000")
    )
    assert changed == 3  # 100k clients small -> medium (2), 800k medium -> large (1)
    assert Client.objects.filter(branch=world.b1, tier="large").count() == 1
    world.client_b2.refresh_from_db()
    assert world.client_b2.tier == b2_before


def test_tier_thresholds_must_be_ordered(world):
    with pytest.raises(DomainError):
        services.branch_tier_thresholds_update(
            actor=world["director"], branch=world.b1, large=Decimal("100"), medium=Decimal("200")
        )


def test_holdings_replace_swaps_positions_and_audits(world):
    s1: Security = SecurityFactory(code="600519", name="贵州茅台")
    s2: Security = SecurityFactory(code="000001", exchange="SZ", name="平安银行")
    c = world.client_m1
    services.holdings_replace(
        actor=world["manager1"],
        client=c,
        positions=[(s1, 100, Decimal("1500"))],
        as_of=__import__("datetime").date(2026, 11, 20),
    )
    services.holdings_replace(
        actor=world["manager1"],
        client=c,
        positions=[(s2, 2000, Decimal("11.2"))],
        as_of=__import__("datetime").date(2026, 11, 24),
    )
    assert list(Holding.objects.filter(client=c).values_list("security__code", "quantity")) == [
        ("000001", 2000)
    ]
    assert AuditLog.objects.filter(action="holdings.replace", object_id=str(c.pk)).count() == 2


def test_audit_log_cannot_be_changed_or_deleted(world):
    services.client_update(actor=world["manager1"], client=world.client_m1, data={"notes": "x"})
    log = AuditLog.objects.latest("id")
    log.action = "tampered"
    with pytest.raises(PermissionError):
        log.save()
    with pytest.raises(PermissionError):
        log.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(action="x")
    assert AuditLog.objects.filter(action="tampered").count() == 0


def test_changing_the_manager_needs_the_reassign_right(world):
    with pytest.raises(DomainError) as exc:
        services.client_update(
            actor=world["manager1"], client=world.client_m1, data={"manager": world["manager2"]}
        )
    assert exc.value.field == "manager"
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager1"]
    services.client_update(
        actor=world["director"], client=world.client_m1, data={"manager": world["manager2"]}
    )
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager2"]
