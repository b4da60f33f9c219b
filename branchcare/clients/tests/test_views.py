from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from branchcare.clients.models import Client
from branchcare.core.models import AuditLog
from branchcare.testing.factories import ClientFactory, HoldingFactory, PriceFactory, SecurityFactory


def test_list_shows_masked_phone_to_agent_and_full_phone_to_manager(world, login):
    page = login("agent1").get(reverse("clients:list")).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    page = login("manager1").get(reverse("clients:list")).content.decode()
    assert "13812345678" in page


def test_list_search_by_initials_via_htmx_returns_only_table(world, login):
    c = login("director")
    r = c.get(reverse("clients:list"), {"q": "zs"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="client-table")
    body = r.content.decode()
    assert "张三" in body and "李四" not in body and "<html" not in body


@pytest.mark.parametrize("n", [5, 40])
def test_list_query_count_does_not_grow_with_rows(world, login, django_assert_max_num_queries, n):
    for _ in range(n):
        ClientFactory(branch=world.b1, manager=world["manager2"])
    c = login("director")
    with django_assert_max_num_queries(10):
        r = c.get(reverse("clients:list"), {"page_size": 100})
    assert r.status_code == 200


def test_detail_page_shows_holdings_pnl_red_up_and_query_count_is_bounded(
    world, login, django_assert_max_num_queries
):
    # 16 = session/user/roles + client + holdings + edit check + unread badge + the timeline providers of
    # every app (one or two each) + session save; the same with 6 holdings as with 60.
    sec = SecurityFactory(code="600519", name="贵州茅台")
    for i in range(5):
        s = SecurityFactory(code=f"60100{i}")
        HoldingFactory(client=world.client_m1, security=s)
        PriceFactory(security=s)
    HoldingFactory(client=world.client_m1, security=sec, cost_price=20)
    PriceFactory(security=sec, close=10)
    c = login("manager1")
    # A fixed number per registered timeline provider and client panel (each app's tests bound its
    # own); nothing here grows with the number of holdings or events.
    with django_assert_max_num_queries(30):
        r = c.get(reverse("clients:detail", args=[world.client_m1.pk]))
    body = r.content.decode()
    assert "贵州茅台" in body
    assert 'class="num up">1,000.00' in body  # profit in red
    assert 'class="num down">-10,000.00' in body  # loss in green


def test_detail_masks_id_number_for_consultant(world, login):
    body = login("consultant1").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert "3101**********1234" in body and "310101199001011234" not in body
    assert "138****5678" in body


def test_detail_timeline_shows_record_changes(world, login):
    c = login("manager1")
    c.post(
        reverse("clients:edit", args=[world.client_m1.pk]),
        {
            "client_no": world.client_m1.client_no,
            "name": "张三",
            "phone": "13812345678",
            "status": "active",
            "risk_level": "C4",
            "total_assets": "100000",
            "manager": world["manager1"].pk,
            "version": 1,
        },
    )
    body = c.get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert "修改客户资料" in body and "风险等级" in body


def test_timeline_is_an_extension_point(world, login):
    from branchcare.core import timeline

    def fake(*, client, viewer, start, end):
        yield timeline.TimelineEvent(at=end, kind="visit", title="拜访：测试事件")

    timeline.register("test.fake", fake)
    try:
        body = login("manager1").get(reverse("clients:timeline", args=[world.client_m1.pk])).content.decode()
    finally:
        timeline.unregister("test.fake")
    assert "拜访：测试事件" in body


def test_edit_with_bad_input_shows_chinese_field_errors_and_changes_nothing(world, login):
    c = login("manager1")
    r = c.post(
        reverse("clients:edit", args=[world.client_m1.pk]),
        {
            "client_no": "",
            "name": "张三",
            "phone": "abc",
            "status": "active",
            "total_assets": "-5",
            "birthday": "2999-01-01",
            "version": 1,
        },
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert "该字段是必填项。" in body
    assert "手机号码格式不正确" in body
    assert "日期不能晚于今天" in body
    world.client_m1.refresh_from_db()
    assert world.client_m1.version == 1


def test_edit_conflict_is_reported(world, login):
    c = login("manager1")
    data = {
        "client_no": world.client_m1.client_no,
        "name": "张三",
        "status": "active",
        "total_assets": "1",
        "version": 1,
    }
    assert (
        c.post(reverse("clients:edit", args=[world.client_m1.pk]), {**data, "notes": "a"}).status_code == 302
    )
    r = c.post(reverse("clients:edit", args=[world.client_m1.pk]), {**data, "notes": "b"})
    assert "已被他人修改" in r.content.decode()
    world.client_m1.refresh_from_db()
    assert world.client_m1.notes == "a"


def test_agent_cannot_change_phone_through_form(world, login):
    # agent1 has no edit right at all; a director without personal-data right would not see the fields.
    r = login("agent1").post(reverse("clients:edit", args=[world.client_m1.pk]), {"phone": "13900000000"})
    assert r.status_code == 403


def test_create_client_via_form(world, login):
    c = login("director")
    r = c.post(
        reverse("clients:create"),
        {
            "client_no": "99000001",
            "name": "钱多多",
            "phone": "13900001111",
            "status": "active",
            "total_assets": "6000000",
            "manager": world["manager1"].pk,
            "tags": "高净值, 科技股",
        },
    )
    assert r.status_code == 302
    new = Client.objects.get(client_no="99000001")
    assert (new.tier, new.tags, new.branch) == ("large", ["高净值", "科技股"], world.b1)


def test_export_masks_for_roles_without_right_and_neutralises_formulas(world, login):
    ClientFactory(branch=world.b1, manager=world["manager1"], name="=cmd|' /C calc'!A0", phone="13700001234")
    r = login("manager1").get(reverse("clients:export"))
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["营业部", "客户号", "姓名", "手机", "证件号码"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert any(v[2] == "'=cmd|' /C calc'!A0" for v in values)
    assert ws.freeze_panes == "A2"
    assert AuditLog.objects.filter(action="client.export", actor_username="manager1").exists()
    # compliance sees unmasked, and the export respects the scope: manager1 only got own clients
    assert {v[2] for v in values} == {"张三", "=cmd|' /C calc'!A0".replace("=", "'=", 1)} | {"张三"}


def test_export_for_masked_role(world, login):
    from branchcare.org.models import Role

    Role.objects.filter(code="agent").update(capabilities=["clients.view", "clients.export"])
    r = login("agent1").get(reverse("clients:export"))
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    values = [[c.value for c in row] for row in wb.active.iter_rows(min_row=2)]
    phones = {v[3] for v in values}
    assert "138****5678" in phones and "13812345678" not in phones
    assert "3101**********1234" in {v[4] for v in values}


def test_bulk_reassign_via_list(world, login):
    c = login("director")
    r = c.post(
        reverse("clients:reassign"), {"clients": [world.client_m1.pk], "manager": world["manager2"].pk}
    )
    assert r.status_code == 302
    world.client_m1.refresh_from_db()
    assert world.client_m1.manager == world["manager2"]


def test_bulk_reassign_of_other_branch_client_changes_nothing(world, login):
    c = login("director")
    c.post(reverse("clients:reassign"), {"clients": [world.client_b2.pk], "manager": world["manager2"].pk})
    world.client_b2.refresh_from_db()
    assert world.client_b2.manager == world["b2manager1"]


def test_tier_settings_page_recomputes(world, login):
    c = login("director")
    r = c.post(
        reverse("clients:tier_settings"),
        {"branch": world.b1.pk, "large_threshold": "90000", "medium_threshold": "10000"},
    )
    assert r.status_code == 302
    assert Client.objects.filter(branch=world.b1, tier="large").count() == 2
