"""Research pages: the role × URL permission matrix, query counts and the main page flows."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from branchcare.research import services as svc
from branchcare.research.models import ResearchAttachment, ResearchDelivery, ResearchItem, ResearchPush

from .conftest import make_item

ROLES = ["admin", "director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "agent1",
         "compliance1", "b2manager1", "b2director"]  # fmt: skip
B1_READERS = {"director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "compliance1"}
B2 = {"b2manager1", "b2director"}


def expect(ok: set[str], *, not_found: set[str] = frozenset(), ok_code: int = 200) -> dict[str, int]:
    return {r: ok_code if r in ok else 404 if r in not_found else 403 for r in ROLES}


MATRIX = {
    "items": expect(B1_READERS | B2),
    "item_new": expect({"researcher1"}),
    "item_detail_published": expect(B1_READERS, not_found=B2),
    "item_detail_draft": expect({"researcher1"}, not_found=(B1_READERS - {"researcher1"}) | B2),
    "item_edit_draft": expect({"researcher1"}),
    "item_transition_approve": expect({"compliance1"}, ok_code=302),
    "attachment_upload": expect({"researcher1"}, ok_code=302),
    "attachment_download": expect(B1_READERS, not_found=B2),
    "attachment_delete": expect({"researcher1"}, ok_code=302),
    "review_queue": expect({"compliance1"}),
    "sources": expect({"admin", "director", "researcher1", "compliance1", "b2director"}),
    "source_new": expect({"admin", "director", "researcher1", "b2director"}),
    "source_edit": expect({"admin", "director", "researcher1"}, not_found={"b2director"}),
    "pushes": expect({"director", "manager1", "manager2", "consultant1", "broker1", "compliance1"} | B2),
    "push_new": expect({"director", "manager1", "manager2", "consultant1", "broker1"}, not_found=B2),
    "push_detail": expect({"director", "consultant1", "compliance1"}, not_found={"manager1", "manager2", "broker1"} | B2),
    "delivery_retry": expect({"director", "consultant1"}, not_found={"manager1", "manager2", "broker1"} | B2,
                             ok_code=302),
    "my_tasks": expect({"director", "manager1", "manager2", "broker1"} | B2),
    "delivery_done": expect({"director", "manager1"}, not_found={"manager2", "broker1"} | B2, ok_code=302),
    "client_feed": expect({"director", "manager1", "consultant1", "compliance1"},
                          not_found={"manager2", "researcher1", "broker1"} | B2),
}  # fmt: skip
CASES = [(role, key, code) for key, row in MATRIX.items() for role, code in row.items()]


@pytest.fixture
def objs(rworld, world, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": ""}  # the SMS delivery fails
    att_pub = ResearchAttachment(
        item=rworld.rec, original_name="r.pdf", size=9, content_type="application/pdf"
    )
    att_pub.file.save("r.pdf", ContentFile(b"%PDF-1.4 x"), save=True)
    att_draft = ResearchAttachment(
        item=rworld.draft, original_name="d.pdf", size=9, content_type="application/pdf"
    )
    att_draft.file.save("d.pdf", ContentFile(b"%PDF-1.4 x"), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        push = svc.push_create(actor=world["consultant1"], item=rworld.published,
                               audience={"kind": "manager", "manager": world["manager1"].pk},
                               channels=["in_person", "sms"])  # fmt: skip
    task = ResearchDelivery.objects.get(push=push, channel="in_person")
    failed = ResearchDelivery.objects.get(push=push, channel="sms")
    assert failed.status == "failed"
    return {"att_pub": att_pub, "att_draft": att_draft, "push": push, "task": task, "failed": failed}


def _request(key, rworld, world, objs):
    r = reverse
    return {
        "items": ("get", r("research:items"), None),
        "item_new": ("get", r("research:item_new"), None),
        "item_detail_published": ("get", r("research:item_detail", args=[rworld.rec.pk]), None),
        "item_detail_draft": ("get", r("research:item_detail", args=[rworld.draft.pk]), None),
        "item_edit_draft": ("get", r("research:item_edit", args=[rworld.draft.pk]), None),
        "item_transition_approve": (
            "post",
            r("research:item_transition", args=[rworld.review.pk]),
            {"name": "approve"},
        ),
        "attachment_upload": ("post", r("research:attachment_upload", args=[rworld.draft.pk]), {}),
        "attachment_download": ("get", r("research:attachment_download", args=[objs["att_pub"].pk]), None),
        "attachment_delete": ("post", r("research:attachment_delete", args=[objs["att_draft"].pk]), {}),
        "review_queue": ("get", r("research:review_queue"), None),
        "sources": ("get", r("research:sources"), None),
        "source_new": ("get", r("research:source_new"), None),
        "source_edit": ("get", r("research:source_edit", args=[rworld.own.pk]), None),
        "pushes": ("get", r("research:pushes"), None),
        "push_new": ("get", r("research:push_new") + f"?item={rworld.rec.pk}", None),
        "push_detail": ("get", r("research:push_detail", args=[objs["push"].pk]), None),
        "my_tasks": ("get", r("research:my_tasks"), None),
        "delivery_retry": ("post", r("research:delivery_retry", args=[objs["failed"].pk]), {}),
        "delivery_done": ("post", r("research:delivery_done", args=[objs["task"].pk]), {}),
        "client_feed": ("get", r("research:client_feed", args=[world.client_m1.pk]), None),
    }[key]


@pytest.mark.parametrize(("role", "key", "expected"), CASES)
def test_permission_matrix(objs, rworld, world, login, role, key, expected):
    method, url, data = _request(key, rworld, world, objs)
    client = login(role)
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == expected, (role, key, response.status_code)


@pytest.mark.parametrize("key", list(MATRIX))
def test_anonymous_is_sent_to_login(objs, rworld, world, client, key):
    method, url, data = _request(key, rworld, world, objs)
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_item_list_query_count(rworld, world, login, django_assert_max_num_queries):
    for i in range(15):
        make_item(
            world["researcher1"],
            rworld.head,
            reviewer=world["compliance1"],
            title=f"半导体周报{i}",
            industries=["半导体"],
        )
    client = login("consultant1")
    with django_assert_max_num_queries(16):
        response = client.get(reverse("research:items"), {"q": "半导体"})
    assert response.status_code == 200 and "半导体周报14" in response.content.decode()


@pytest.mark.parametrize("name", ["research:review_queue", "research:sources", "research:pushes"])
def test_other_lists_query_count(objs, rworld, world, login, django_assert_max_num_queries, name):
    user = {
        "research:review_queue": "compliance1",
        "research:sources": "researcher1",
        "research:pushes": "consultant1",
    }[name]
    client = login(user)
    with django_assert_max_num_queries(16):
        assert client.get(reverse(name)).status_code == 200


def test_client_page_shows_research_panel(rworld, world, login, django_assert_max_num_queries):
    client = login("manager1")
    response = client.get(reverse("clients:detail", args=[world.client_m1.pk]))
    body = response.content.decode()
    assert "相关研究" in body and "中芯国际：买入" in body and "半导体设备国产化深度报告" in body
    # a role without research capabilities does not see the panel
    body = login("agent1").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert 'id="client-research"' not in body


def test_write_submit_review_through_pages(rworld, world, login):
    c = login("researcher1")
    response = c.post(reverse("research:item_new"), {
        "source": rworld.own.pk, "kind": "recommendation", "title": "兆易创新：增持", "risk_rating": "R4",
        "security_code": "603986", "direction": "add", "target_price": "120", "stop_loss": "90",
        "horizon_days": "30", "reason": "存储周期回暖", "industries": "半导体",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    item = ResearchItem.objects.get(title="兆易创新：增持")
    assert item.author == world["researcher1"] and item.publisher == "浦东营业部研究组"
    c.post(reverse("research:item_transition", args=[item.pk]), {"name": "submit"})
    item.refresh_from_db()
    assert item.state == "review"
    c2 = login("compliance1")
    assert "兆易创新：增持" in c2.get(reverse("research:review_queue")).content.decode()
    c2.post(reverse("research:item_transition", args=[item.pk]), {"name": "reject", "note": ""})
    item.refresh_from_db()
    assert item.state == "review"  # a rejection without comment is refused
    c2.post(reverse("research:item_transition", args=[item.pk]), {"name": "approve", "note": "同意发布"})
    item.refresh_from_db()
    assert item.state == "published" and item.review_comment == "同意发布"


def test_invalid_form_shows_field_error(rworld, world, login):
    response = login("researcher1").post(reverse("research:item_new"), {
        "source": rworld.own.pk, "kind": "recommendation", "title": "缺证券", "risk_rating": "R3"})  # fmt: skip
    assert response.status_code == 200 and "个股推荐必须选择推荐证券" in response.content.decode()
    assert not ResearchItem.objects.filter(title="缺证券").exists()


def test_push_page_preview_and_confirm(rworld, world, login, django_capture_on_commit_callbacks):
    c = login("director")
    url = reverse("research:push_new") + f"?item={rworld.rec.pk}"
    data = {
        "item": rworld.rec.pk,
        "kind": "holders",
        "security_code": "688981",
        "channels": ["in_person"],
        "confirm": "0",
    }
    body = c.post(url, data).content.decode()
    assert "李四" in body and "高于客户风险承受能力" in body and "赵六" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(url, {**data, "confirm": "1"})
    assert response.status_code == 200  # nobody suitable: refused, the form shows why
    assert "均未通过适当性检查" in response.content.decode()
    assert not ResearchPush.objects.exists()


def test_source_edit_page_saves(rworld, world, login):
    c = login("researcher1")
    response = c.post(reverse("research:source_edit", args=[rworld.own.pk]),
                      {"kind": "own", "name": "浦东研究组（更名）", "active": "on", "version": rworld.own.version})  # fmt: skip
    assert response.status_code == 302
    rworld.own.refresh_from_db()
    assert rworld.own.name == "浦东研究组（更名）"


def test_workbench_cards(rworld, world, login):
    body = login("consultant1").get(reverse("home")).content.decode()
    assert "最新研究" in body
    body = login("compliance1").get(reverse("home")).content.decode()
    assert "待审核研究" in body
