"""Client API wiring: scoping, search and filters, masking, audited writes, mass assignment, locking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from branchcare.api.testing import api_client
from branchcare.clients.models import Client, Security
from branchcare.core.models import AuditLog
from branchcare.org.capabilities import Cap, Scope
from branchcare.org.models import Role
from branchcare.testing.factories import (
    ClientFactory,
    HoldingFactory,
    PriceFactory,
    SecurityFactory,
    UserFactory,
)

LIST = "/api/v1/clients/"


def detail(client) -> str:
    return f"/api/v1/clients/{client.pk}/"


def numbers(response) -> set[str]:
    return {row["client_no"] for row in response.json()["results"]}


def make_user(world, username: str, *, scope: str, capabilities: list[str], branch=None):
    """A user holding one custom role (for capability combinations no standard role has)."""
    role = Role.objects.create(
        code=f"r-{username}", name=f"测试角色 {username}", scope=scope, capabilities=capabilities
    )
    return UserFactory(username=username, branch=branch or world.b1, roles=[role.code])


# --- list, search, filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("manager1", {"client_m1"}),
        ("manager2", {"client_m2"}),
        ("director", {"client_m1", "client_m2"}),
        ("agent1", {"client_m1", "client_m2"}),
        ("admin", {"client_m1", "client_m2", "client_b2"}),
        ("b2manager1", {"client_b2"}),
        ("b2director", {"client_b2"}),
        ("broker1", set()),
    ],
)
def test_list_is_scoped_to_the_caller(world, username, expected):
    response = api_client(world[username]).get(LIST)

    assert response.status_code == 200
    assert numbers(response) == {getattr(world, name).client_no for name in expected}
    assert response.json()["count"] == len(expected)
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_search_by_pinyin_initials_finds_zhang_san(world):
    response = api_client(world["director"]).get(LIST, {"q": "zs"})

    assert [row["name"] for row in response.json()["results"]] == ["张三"]


def test_search_stays_inside_scope(world):
    response = api_client(world["b2director"]).get(LIST, {"q": "zs"})

    assert response.json()["results"] == []


def test_filters(world):
    # given
    big = ClientFactory(
        branch=world.b1, manager=world["manager1"], tier="large", is_premium=True, risk_level="C5",
        status="dormant", risk_assessed_on=dt.date(2000, 1, 1),
    )  # fmt: skip
    director = api_client(world["director"])

    def found(**params) -> set[str]:
        return numbers(director.get(LIST, params))

    # then
    assert found(tier="large") == {big.client_no}
    assert found(risk_level="C5") == {big.client_no}
    assert found(premium="true") == {big.client_no}
    assert found(status="dormant") == {big.client_no}
    assert found(assessment_expired="1") == {big.client_no}
    assert found(manager=str(world["manager2"].pk)) == {world.client_m2.client_no}
    assert found(branch=str(world.b1.pk)) == {
        world.client_m1.client_no,
        world.client_m2.client_no,
        big.client_no,
    }
    assert found(branch=str(world.b2.pk)) == set()  # another branch is not widened into
    assert found(tier="nonsense") == found()  # malformed filters are ignored, as in the UI


def test_sort(world):
    response = api_client(world["director"]).get(LIST, {"sort": "-client_no"})

    nos = [row["client_no"] for row in response.json()["results"]]
    assert nos == sorted(nos, reverse=True)


def test_pagination_links(world):
    ClientFactory.create_batch(3, branch=world.b1)

    page = api_client(world["director"]).get(LIST, {"page_size": 2}).json()

    assert page["count"] == 5
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]
    assert page["previous"] is None


def test_page_out_of_range_is_404_json(world):
    response = api_client(world["director"]).get(LIST, {"page": 99})

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("n", [10, 40])
def test_list_query_count_does_not_grow_with_the_page(world, django_assert_max_num_queries, n):
    # given: n clients with managers, so an N+1 on manager or branch would show
    ClientFactory.create_batch(n - 2, branch=world.b1, manager=world["manager2"])
    client = api_client(world["director"])

    # then: token+user, roles, count, page — the same for 10 and for 40 rows
    with django_assert_max_num_queries(4) as ctx:
        response = client.get(LIST)
    assert len(response.json()["results"]) == n
    assert len(ctx.captured_queries) == 4


def test_null_characters_in_filters_do_not_break_the_query(world):
    response = api_client(world["director"]).get(LIST, {"q": "z\x00s", "manager": "²", "branch": "1\x00"})

    assert response.status_code == 200


# --- detail and scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "other"), [("manager1", "client_m2"), ("b2manager1", "client_m1")])
def test_detail_outside_scope_is_404(world, username, other):
    response = api_client(world[username]).get(detail(getattr(world, other)))

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}


def test_detail_of_a_missing_or_malformed_id_is_404(world):
    client = api_client(world["director"])

    assert client.get("/api/v1/clients/999999/").status_code == 404
    assert client.get("/api/v1/clients/abc/").status_code == 404


def test_detail_shape(world):
    body = api_client(world["manager1"]).get(detail(world.client_m1)).json()

    assert body["client_no"] == world.client_m1.client_no
    assert body["branch"] == {"id": world.b1.pk, "code": "B001", "name": "上海浦东营业部"}
    assert body["manager"]["username"] == "manager1"
    assert body["version"] == 1


# --- personal data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["agent1", "consultant1"])
def test_personal_data_is_masked_without_the_capability(world, username):
    client = api_client(world[username])

    row = next(r for r in client.get(LIST).json()["results"] if r["id"] == world.client_m1.pk)
    body = client.get(detail(world.client_m1)).json()

    for data in (row, body):
        assert data["phone"] == "138****5678"
        assert data["id_number"] == "3101**********1234"


@pytest.mark.parametrize("username", ["manager1", "director", "compliance1"])
def test_personal_data_is_shown_with_the_capability(world, username):
    body = api_client(world[username]).get(detail(world.client_m1)).json()

    assert body["phone"] == "13812345678"
    assert body["id_number"] == "310101199001011234"


def test_caller_without_personal_data_right_may_not_write_it(world):
    # given: someone who may edit but only ever sees masked numbers
    editor = make_user(
        world, "editor1", scope=Scope.BRANCH, capabilities=[Cap.CLIENTS_VIEW, Cap.CLIENTS_EDIT]
    )
    client = api_client(editor)

    # when: the masked value is sent back
    response = client.patch(detail(world.client_m1), {"phone": "138****5678", "notes": "x"}, format="json")

    # then: refused, and nothing changed
    assert response.status_code == 403
    assert response.json() == {"detail": "您没有查看或修改手机号、证件号码的权限。"}
    world.client_m1.refresh_from_db()
    assert (world.client_m1.phone, world.client_m1.notes, world.client_m1.version) == ("13812345678", "", 1)

    # and other fields are still editable, with the answer masked
    ok = client.patch(detail(world.client_m1), {"notes": "来电咨询"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["phone"] == "138****5678"


# --- create -------------------------------------------------------------------------------------------

NEW_CLIENT = {
    "client_no": "88000001",
    "name": "钱九",
    "phone": "13900001111",
    "id_number": "110101198001010011",
    "gender": "M",
    "risk_level": "C4",
    "risk_assessed_on": "2026-01-05",
    "total_assets": "6000000.00",
    "tags": ["VIP"],
}


def test_create_is_audited_and_lands_in_the_callers_branch(world):
    payload = {
        **NEW_CLIENT,
        "manager": world["manager1"].pk,
        # mass assignment: none of these may be set by a payload
        "branch": world.b2.pk, "tier": "small", "id": 424242, "version": 9, "name_pinyin": "x", "phone_tail": "0000",
        "created_at": "2000-01-01T00:00:00Z",
    }  # fmt: skip

    response = api_client(world["director"]).post(LIST, payload, format="json")

    assert response.status_code == 201, response.json()
    created = Client.objects.get(client_no="88000001")
    assert created.branch == world.b1
    assert created.tier == "large"  # derived from total assets, not taken from the payload
    assert created.pk != 424242
    assert created.version == 1
    assert created.name_pinyin == "qianjiu"
    assert created.phone_tail == "1111"
    assert created.created_at.year != 2000
    assert created.manager == world["manager1"]
    assert response.json()["id"] == created.pk
    assert AuditLog.objects.filter(
        action="client.create", object_id=str(created.pk), actor=world["director"]
    ).exists()


def test_create_needs_the_create_capability(world):
    response = api_client(world["manager1"]).post(LIST, NEW_CLIENT, format="json")

    assert response.status_code == 403
    assert not Client.objects.filter(client_no="88000001").exists()


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({**NEW_CLIENT, "client_no": ""}, {"client_no": ["客户号不能为空。"]}),
        ({k: v for k, v in NEW_CLIENT.items() if k != "client_no"}, {"client_no": ["客户号不能为空。"]}),
        ({**NEW_CLIENT, "name": ""}, {"name": ["姓名不能为空。"]}),
        ({**NEW_CLIENT, "risk_level": "C9"}, {"risk_level": ["风险等级无效。"]}),
        ({**NEW_CLIENT, "status": "gone"}, {"status": ["状态无效。"]}),
        ({**NEW_CLIENT, "total_assets": "-1"}, {"total_assets": ["总资产不能为负数。"]}),
        ({**NEW_CLIENT, "birthday": "31/12/1990"}, {"birthday": ["日期格式应为 YYYY-MM-DD。"]}),
        ({**NEW_CLIENT, "manager": 999999}, {"manager": ["客户经理不存在。"]}),
    ],
)
def test_create_validation_errors_are_chinese_and_write_nothing(world, payload, errors):
    response = api_client(world["director"]).post(LIST, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Client.objects.filter(name="钱九").exists()
    assert not AuditLog.objects.filter(action="client.create").exists()


def test_create_with_a_duplicate_number_names_the_field(world):
    response = api_client(world["director"]).post(
        LIST, {**NEW_CLIENT, "client_no": world.client_m1.client_no}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["client_no"]
    assert "已存在" in response.json()["client_no"][0]


def test_create_with_a_manager_of_another_branch_is_refused(world):
    # b2manager1 is not even visible to a B001 director: the id is "not found"
    response = api_client(world["director"]).post(
        LIST, {**NEW_CLIENT, "manager": world["b2manager1"].pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"manager": ["客户经理不存在。"]}


def test_company_scope_creator_may_choose_the_branch(world):
    hq = make_user(world, "hq1", scope=Scope.COMPANY, capabilities=[Cap.CLIENTS_VIEW, Cap.CLIENTS_CREATE,
                                                                   Cap.PERSONAL_DATA_VIEW])  # fmt: skip

    response = api_client(hq).post(LIST, {**NEW_CLIENT, "branch": world.b2.pk}, format="json")

    assert response.status_code == 201
    assert Client.objects.get(client_no="88000001").branch == world.b2


def test_company_scope_creator_cannot_name_an_unknown_branch(world):
    hq = make_user(
        world, "hq1", scope=Scope.COMPANY, capabilities=[Cap.CLIENTS_CREATE, Cap.PERSONAL_DATA_VIEW]
    )

    response = api_client(hq).post(LIST, {**NEW_CLIENT, "branch": 999999}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["branch"]
    assert not Client.objects.filter(client_no="88000001").exists()


def test_only_json_bodies_are_accepted_for_writes(world):
    response = api_client(world["director"]).post(LIST, NEW_CLIENT)  # form-encoded

    assert response.status_code == 415


# --- update -------------------------------------------------------------------------------------------


def test_patch_is_audited_bumps_the_version_and_ignores_read_only_fields(world):
    # given
    c = world.client_m1
    payload = {"name": "张三丰", "branch": world.b2.pk, "tier": "large", "id": 424242, "phone_tail": "0000"}

    # when
    response = api_client(world["manager1"]).patch(detail(c), payload, format="json")

    # then
    assert response.status_code == 200, response.json()
    c.refresh_from_db()
    assert (c.name, c.branch, c.tier, c.version, c.phone_tail) == ("张三丰", world.b1, "small", 2, "5678")
    assert Client.objects.filter(pk=424242).count() == 0
    assert response.json()["version"] == 2
    log = AuditLog.objects.get(action="client.update", object_id=str(c.pk))
    assert log.changes["name"] == ["张三", "张三丰"]
    assert log.actor == world["manager1"]


def test_put_replaces_the_editable_fields(world):
    c = world.client_m1
    payload = {"client_no": c.client_no, "name": "张三", "risk_level": "C2", "total_assets": "600000"}

    response = api_client(world["director"]).put(detail(c), payload, format="json")

    assert response.status_code == 200
    c.refresh_from_db()
    assert (c.risk_level, c.tier) == ("C2", "medium")


def test_put_without_required_fields_is_400(world):
    response = api_client(world["director"]).put(detail(world.client_m1), {"notes": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"client_no": ["客户号不能为空。"], "name": ["姓名不能为空。"]}


def test_stale_version_is_409_and_changes_nothing(world):
    # given: someone else saved first
    c = world.client_m1
    api_client(world["director"]).patch(detail(c), {"notes": "先保存", "version": 1}, format="json")

    # when
    response = api_client(world["manager1"]).patch(
        detail(c), {"notes": "后保存", "version": 1}, format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "该客户资料已被他人修改，请刷新页面后重新编辑。"}
    c.refresh_from_db()
    assert (c.notes, c.version) == ("先保存", 2)


def test_current_version_is_accepted(world):
    response = api_client(world["manager1"]).patch(
        detail(world.client_m1), {"notes": "ok", "version": 1}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2


@pytest.mark.parametrize(("username", "status"), [("manager1", 404), ("b2director", 404), ("agent1", 403)])
def test_update_outside_scope_or_without_capability_changes_nothing(world, username, status):
    response = api_client(world[username]).patch(detail(world.client_m2), {"notes": "x"}, format="json")

    assert response.status_code == status
    world.client_m2.refresh_from_db()
    assert (world.client_m2.notes, world.client_m2.version) == ("", 1)
    assert not AuditLog.objects.filter(action="client.update").exists()


def test_changing_the_manager_needs_the_reassign_capability(world):
    c = world.client_m1

    refused = api_client(world["manager1"]).patch(detail(c), {"manager": world["manager2"].pk}, format="json")
    same = api_client(world["manager1"]).patch(detail(c), {"manager": world["manager1"].pk}, format="json")

    assert refused.status_code == 403
    assert refused.json() == {"detail": "更换客户经理需要客户划转权限。"}
    assert same.status_code == 200
    c.refresh_from_db()
    assert c.manager == world["manager1"]


def test_director_may_change_the_manager_within_the_branch(world):
    response = api_client(world["director"]).patch(
        detail(world.client_m1), {"manager": world["manager2"].pk}, format="json"
    )

    assert response.status_code == 200
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager2"]


def test_domain_error_names_the_field(world):
    # an inactive manager passes the serializer but not the service rule
    world["manager2"].is_active = False
    world["manager2"].save()

    response = api_client(world["director"]).patch(
        detail(world.client_m1), {"manager": world["manager2"].pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"manager": ["客户经理必须是本营业部在职员工。"]}


# --- holdings -----------------------------------------------------------------------------------------


def test_holdings_are_valued_at_the_last_close(world):
    # given
    security = SecurityFactory(code="600036", name="招商银行")
    PriceFactory(security=security, date=dt.date(2026, 11, 23), close=Decimal("10.50"))
    PriceFactory(security=security, date=dt.date(2026, 11, 24), close=Decimal("11.00"))
    HoldingFactory(client=world.client_m1, security=security, quantity=1000, cost_price=Decimal("10.00"))
    HoldingFactory(client=world.client_m1, security=SecurityFactory(code="000001"), quantity=100)  # no prices

    security_id = Security.objects.get(code="600036").pk

    # when
    response = api_client(world["manager1"]).get(f"{detail(world.client_m1)}holdings/")

    # then
    assert response.status_code == 200
    rows = {row["security"]["code"]: row for row in response.json()}
    assert rows["600036"] == {
        "security": {
            "id": security_id,
            "code": "600036",
            "name": "招商银行",
            "exchange": "SH",
            "kind": "stock",
        },
        "quantity": 1000,
        "cost_price": "10.0000",
        "as_of": "2026-11-20",
        "last_close": "11.0000",
        "last_close_date": "2026-11-24",
        "cost_value": "10000.00",
        "market_value": "11000.00",
        "pnl": "1000.00",
        "pnl_pct": "10.00",
    }
    assert rows["000001"]["market_value"] is None
    assert rows["000001"]["pnl_pct"] is None


def test_holdings_of_a_client_outside_scope_is_404(world):
    HoldingFactory(client=world.client_m2)

    response = api_client(world["manager1"]).get(f"{detail(world.client_m2)}holdings/")

    assert response.status_code == 404
