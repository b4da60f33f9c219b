"""Domain events reach subscribers inside the publisher's transaction; the clients app publishes them."""

from __future__ import annotations

import pytest
from django.db import transaction

from branchcare.clients import services as client_services
from branchcare.clients.models import Client
from branchcare.core import events


@pytest.fixture
def captured():
    seen: list[tuple[str, dict]] = []

    def on_created(**payload):
        seen.append(("created", payload))

    def on_risk(**payload):
        seen.append(("risk", payload))

    events.subscribe("clients.created", on_created, key="test-created")
    events.subscribe("clients.risk_level_changed", on_risk, key="test-risk")
    yield seen
    events._handlers["clients.created"].pop("test-created")
    events._handlers["clients.risk_level_changed"].pop("test-risk")


@pytest.mark.django_db
def test_client_create_and_risk_change_publish(world, captured):
    c = client_services.client_create(
        actor=world["director"],
        branch=world.b1,
        data={"client_no": "880001", "name": "赵六", "risk_level": "C3"},
    )
    client_services.client_update(actor=world["director"], client=c, data={"risk_level": "C4"})
    client_services.client_update(actor=world["director"], client=c, data={"name": "赵六六"})
    assert [kind for kind, _ in captured] == ["created", "risk"]
    assert captured[0][1]["client_ids"] == [c.pk] and captured[0][1]["source"] == "form"
    assert captured[1][1]["changes"] == [(c.pk, "C3", "C4")]


@pytest.mark.django_db
def test_a_failing_handler_rolls_the_write_back(world):
    def boom(**payload):
        raise RuntimeError("handler failed")

    events.subscribe("clients.created", boom, key="test-boom")
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            client_services.client_create(
                actor=world["director"], branch=world.b1, data={"client_no": "880002", "name": "钱七"}
            )
    finally:
        events._handlers["clients.created"].pop("test-boom")
    assert not Client.objects.filter(client_no="880002").exists()


@pytest.mark.django_db(transaction=True)
def test_client_import_publishes_created_ids(world, captured, tmp_path):
    from django.core.management import call_command

    f = tmp_path / "clients.csv"
    f.write_text(
        "客户号,姓名,手机,证件号码,资产,客户经理,开户日期,风险等级\n880101,孙八,,,1000,,2026-01-05,C2\n880102,周九,,,2000,,2026-01-05,C3\n",
        encoding="utf-8",
    )
    call_command("import_clients", str(f), "--branch", world.b1.code)
    created = [p for kind, p in captured if kind == "created"]
    assert len(created) == 1 and created[0]["source"] == "import"
    assert sorted(created[0]["client_ids"]) == sorted(
        Client.objects.filter(client_no__in=["880101", "880102"]).values_list("pk", flat=True)
    )
    f.write_text(
        "客户号,姓名,手机,证件号码,资产,客户经理,开户日期,风险等级\n880101,孙八,,,1000,,2026-01-05,C4\n",
        encoding="utf-8",
    )
    call_command("import_clients", str(f), "--branch", world.b1.code)
    risk = [p for kind, p in captured if kind == "risk"]
    assert [(old, new) for _, old, new in risk[0]["changes"]] == [("C2", "C4")]
