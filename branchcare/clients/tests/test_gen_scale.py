"""``branchcare gen_scale``: synthetic clients at scale (a tiny run here; SQLite or PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from branchcare.clients.demo_data import id_number_birthday, is_valid_id_number
from branchcare.clients.models import Client, Holding
from branchcare.clients.pinyin import name_pinyin
from branchcare.clients.tiers import tier_for
from branchcare.org.models import Branch, User


def _gen(*args: str) -> str:
    out = StringIO()
    call_command("gen_scale", *args, stdout=out)
    return out.getvalue()


def test_generates_clients_over_the_requested_branches(db):
    # when
    out = _gen("--clients", "500", "--branches", "3", "--managers-per-branch", "2", "--batch", "200")
    # then
    assert "500" in out
    assert Client.objects.count() == 500
    per_branch = Counter(Client.objects.values_list("branch__code", flat=True))
    assert per_branch == {"S001": 167, "S002": 167, "S003": 166}
    managers = User.objects.filter(username__regex=r"^s00[1-3]m0[12]$")
    assert managers.count() == 6
    assert all(list(m.roles.values_list("code", flat=True)) == ["manager"] for m in managers)


def test_generated_clients_are_consistent(db):
    _gen("--clients", "300", "--branches", "2", "--managers-per-branch", "3", "--batch", "128")
    for c in Client.objects.select_related("branch", "manager"):
        assert c.manager is not None and c.manager.branch_id == c.branch_id
        assert c.client_no.startswith(str(5000 + int(c.branch.code[1:])))
        assert (c.name_pinyin, c.name_initials) == name_pinyin(c.name)
        assert c.phone_tail == c.phone[-4:]
        assert is_valid_id_number(c.id_number) and id_number_birthday(c.id_number) == c.birthday
        assert c.tier == tier_for(
            c.total_assets, large=c.branch.large_threshold, medium=c.branch.medium_threshold
        )
        assert isinstance(c.tags, list) and c.version == 1
    # the ORM still allocates fresh ids after the bulk load
    extra = Client.objects.create(branch=Branch.objects.get(code="S001"), client_no="X1", name="测试")
    assert extra.pk > max(Client.objects.exclude(pk=extra.pk).values_list("pk", flat=True))


def test_holdings_when_asked(db):
    _gen("--clients", "40", "--branches", "1", "--managers-per-branch", "1", "--holdings-per-client", "3")
    open_clients = Client.objects.exclude(status=Client.Status.CLOSED).count()
    assert Holding.objects.count() == 3 * open_clients
    assert all(q % 100 == 0 for q in Holding.objects.values_list("quantity", flat=True))


def test_a_second_run_continues_the_numbering(db):
    _gen("--clients", "50", "--branches", "2", "--managers-per-branch", "2")
    _gen("--clients", "50", "--branches", "2", "--managers-per-branch", "2")
    assert Client.objects.count() == 100
    assert Client.objects.values("client_no").distinct().count() == 100
    assert User.objects.filter(username__startswith="s00").count() == 4


@override_settings(BRANCHCARE_PRODUCTION=True)
def test_refuses_in_production(db):
    with pytest.raises(CommandError):
        _gen("--clients", "10")
    assert Client.objects.count() == 0
