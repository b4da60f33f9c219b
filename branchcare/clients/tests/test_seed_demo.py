"""``branchcare seed_demo``: the demo company, its accounts, clients and holdings."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from branchcare.clients.demo_data import id_number_birthday, id_number_gender, is_valid_id_number
from branchcare.clients.management.commands.seed_demo import ACCOUNTS
from branchcare.clients.models import Client, Holding, Price, Security
from branchcare.clients.pinyin import name_pinyin
from branchcare.clients.tiers import tier_for
from branchcare.core.models import AuditLog
from branchcare.org.models import Branch, Room, Seat, User

N = 20


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--clients-per-branch", str(N), *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Branch, User, Client, Holding, Security, Price, Room, Seat, AuditLog)
    }


@pytest.fixture
def seeded(db) -> str:
    return _seed("--if-empty")


def test_creates_both_branches_and_their_rooms(seeded):
    b1, b2 = Branch.objects.get(code="B001"), Branch.objects.get(code="B002")
    assert b1.company_id == b2.company_id
    for branch in (b1, b2):
        assert Room.objects.filter(branch=branch, kind=Room.Kind.HALL).count() == 1
        vip = Room.objects.filter(branch=branch, kind=Room.Kind.VIP)
        assert 2 <= vip.count() <= 3
        assert sorted(Seat.objects.filter(room=vip.first()).values_list("label", flat=True)) == [
            f"{n:02d}" for n in range(1, 9)
        ]


def test_creates_every_account_with_its_role_and_the_demo_password(seeded):
    for spec in ACCOUNTS:
        user = User.objects.get(username=spec.username)
        assert list(user.roles.values_list("code", flat=True)) == [spec.role]
        assert user.branch.code == spec.branch
        assert user.name and user.is_active
        assert user.check_password(settings.BRANCHCARE["DEMO_PASSWORD"])
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="consultant1").practice_no.startswith("S")
    assert User.objects.get(username="manager1").team_id != User.objects.get(username="manager2").team_id
    assert User.objects.get(username="b2manager1").branch.code == "B002"


def test_creates_clients_with_tiers_from_the_branch_thresholds(seeded):
    for code in ("B001", "B002"):
        branch = Branch.objects.get(code=code)
        clients = list(Client.objects.filter(branch=branch).select_related("manager"))
        assert len(clients) == N
        for c in clients:
            assert c.tier == tier_for(
                c.total_assets, large=branch.large_threshold, medium=branch.medium_threshold
            )
            assert c.manager is not None and c.manager.branch_id == branch.pk
            assert (c.name_pinyin, c.name_initials) == name_pinyin(c.name)
            assert c.phone_tail == c.phone[-4:] and len(c.phone) == 11
            assert is_valid_id_number(c.id_number)
            assert id_number_birthday(c.id_number) == c.birthday
            assert id_number_gender(c.id_number) == c.gender
            assert c.risk_level in Client.RiskLevel.values and c.risk_assessed_on
    owners = set(Client.objects.filter(branch__code="B001").values_list("manager__username", flat=True))
    assert owners <= {"manager1", "manager2", "broker1"}
    assert set(Client.objects.filter(branch__code="B002").values_list("manager__username", flat=True)) == {
        "b2manager1"
    }


def test_zhang_san_and_li_si_exist_for_the_browser_tests(seeded):
    zs = Client.objects.select_related("manager").get(branch__code="B001", name="张三")
    assert zs.manager is not None and zs.manager.username == "manager1"
    assert zs.name_initials == "zs" and zs.status == Client.Status.ACTIVE
    ls = Client.objects.select_related("manager").get(branch__code="B001", name="李四")
    assert ls.manager is not None and ls.manager.username == "manager2"


def test_holdings_point_at_loaded_securities_with_prices(seeded):
    assert Security.objects.filter(code="600519", exchange="SH").exists()
    assert Security.objects.count() >= 180
    holdings = list(Holding.objects.select_related("security", "client"))
    assert holdings
    for h in holdings:
        assert h.quantity > 0 and h.quantity % 100 == 0
        assert h.security.kind != Security.Kind.INDEX
        assert h.client.status != Client.Status.CLOSED
    per_client = Counter(h.client_id for h in holdings)
    assert all(2 <= n <= 6 for n in per_client.values())
    assert len(per_client) == Client.objects.exclude(status=Client.Status.CLOSED).count()
    # ~30 trading days for every security, the index near 3 900
    assert Price.objects.filter(security__code="510300").count() == 30
    last = Price.objects.filter(security__code="000300").order_by("-date").first()
    assert last is not None and 3500 < last.close < 4300


def test_seats_go_to_large_clients_of_the_same_branch(seeded):
    for c in Client.objects.filter(seat__isnull=False).select_related("seat__room"):
        assert c.seat is not None and c.tier == Client.Tier.LARGE
        assert c.seat.room.branch_id == c.branch_id and c.seat.room.kind == Room.Kind.VIP


def test_writes_one_audit_record(seeded):
    log = AuditLog.objects.get(action="demo.seed")
    assert log.changes["clients"] == [None, 2 * N]


def test_prints_accounts_and_password(seeded):
    assert "manager1" in seeded and "b2manager1" in seeded
    assert settings.BRANCHCARE["DEMO_PASSWORD"] in seeded


def test_if_empty_keeps_existing_data(seeded):
    # given
    before = _counts()
    # when
    out = _seed("--if-empty")
    # then
    assert "保留" in out
    assert _counts() == before


def test_refuses_a_non_empty_database_without_force(seeded):
    before = _counts()
    with pytest.raises(CommandError, match="--force"):
        _seed()
    assert _counts() == before


def test_force_adds_nothing_twice(seeded):
    before = _counts()
    _seed("--force")
    after = _counts()
    assert after.pop("AuditLog") == before.pop("AuditLog") + 1
    assert after == before


@override_settings(BRANCHCARE_PRODUCTION=True)
def test_refuses_in_production(db):
    with pytest.raises(CommandError, match="生产环境"):
        _seed("--if-empty")
    assert Branch.objects.count() == 0 and Client.objects.count() == 0 and User.objects.count() == 0
