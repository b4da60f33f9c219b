"""Research API: the role × route matrix, the review walk, search, pushes, the client feed, schema."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from branchcare.api.testing import api_client
from branchcare.research import services as svc
from branchcare.research.models import ResearchAttachment, ResearchDelivery, ResearchItem

from .test_views import B1_READERS, B2, ROLES, expect

API_MATRIX = {
    "sources": expect({"admin", "director", "researcher1", "compliance1", "b2director"}),
    "source_detail": expect({"admin", "director", "researcher1", "compliance1"}, not_found={"b2director"}),
    "source_create": expect({"admin", "director", "researcher1", "b2director"}, ok_code=201),
    "items": expect(B1_READERS | B2),
    "item_detail": expect(B1_READERS, not_found=B2),
    "item_create": expect({"researcher1"}, ok_code=201),
    "item_patch": expect({"researcher1"}),
    "item_submit": expect({"researcher1"}, not_found={"compliance1"}),  # reviewers do not see drafts
    "item_review": expect({"compliance1"}, not_found=B2 - B2),
    "item_withdraw": expect({"researcher1", "compliance1"}),
    "attachments": expect(B1_READERS, not_found=B2),
    "attachment_upload": expect({"researcher1"}, ok_code=201),
    "attachment_download": expect(B1_READERS, not_found=B2),
    "pushes": expect({"director", "manager1", "manager2", "consultant1", "broker1", "compliance1"} | B2),
    "push_create": expect({"director", "consultant1"}, not_found=B2, ok_code=201),
    "push_detail": expect({"director", "consultant1", "compliance1"}, not_found={"manager1", "manager2", "broker1"} | B2),
    "feed": expect({"director", "manager1", "consultant1", "compliance1"},
                   not_found={"manager2", "researcher1", "broker1"} | B2),
}  # fmt: skip
# manager2 / broker1 / b2 may push but their client scope does not include client_m1's manager's book:
# push_create answers 400 (no clients) for them — recorded separately below.
API_MATRIX["push_create"]["manager1"] = 201  # manager1 pushes to their own book
for _r in ("manager2", "broker1", "b2manager1", "b2director"):
    API_MATRIX["push_create"][_r] = 400
CASES = [(role, key, code) for key, row in API_MATRIX.items() for role, code in row.items()]


@pytest.fixture
def objs(rworld, world, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    att = ResearchAttachment(item=rworld.rec, original_name="r.pdf", size=9, content_type="application/pdf")
    att.file.save("r.pdf", ContentFile(b"%PDF-1.4 x"), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        push = svc.push_create(actor=world["consultant1"], item=rworld.published,
                               audience={"kind": "manager", "manager": world["manager1"].pk}, channels=["in_person"])  # fmt: skip
    return {"att": att, "push": push}


def _call(key, rworld, world, objs, client):
    item_payload = {
        "source": rworld.own.pk,
        "kind": "report",
        "title": "API 报告",
        "body": "半导体",
        "risk_rating": "R2",
    }
    calls = {
        "sources": lambda: client.get("/api/v1/research/sources/"),
        "source_detail": lambda: client.get(f"/api/v1/research/sources/{rworld.own.pk}/"),
        "source_create": lambda: client.post("/api/v1/research/sources/", {"kind": "external", "name": "外脑丙"}, format="json"),
        "items": lambda: client.get("/api/v1/research/items/", {"search": "半导体"}),
        "item_detail": lambda: client.get(f"/api/v1/research/items/{rworld.rec.pk}/"),
        "item_create": lambda: client.post("/api/v1/research/items/", item_payload, format="json"),
        "item_patch": lambda: client.patch(f"/api/v1/research/items/{rworld.draft.pk}/",
                                           {**item_payload, "version": rworld.draft.version}, format="json"),
        "item_submit": lambda: client.post(f"/api/v1/research/items/{rworld.draft.pk}/submit/", {}, format="json"),
        "item_review": lambda: client.post(f"/api/v1/research/items/{rworld.review.pk}/review/",
                                           {"decision": "approve"}, format="json"),
        "item_withdraw": lambda: client.post(f"/api/v1/research/items/{rworld.published.pk}/withdraw/",
                                             {"note": "更正"}, format="json"),
        "attachments": lambda: client.get(f"/api/v1/research/items/{rworld.rec.pk}/attachments/"),
        "attachment_upload": lambda: client.post(f"/api/v1/research/items/{rworld.draft.pk}/attachments/",
                                                 {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 api")}, format="multipart"),
        "attachment_download": lambda: client.get(f"/api/v1/research/items/{rworld.rec.pk}/attachments/{objs['att'].pk}/"),
        "pushes": lambda: client.get("/api/v1/research/pushes/"),
        "push_create": lambda: client.post("/api/v1/research/pushes/", {
            "item": rworld.published.pk, "audience": {"kind": "manager", "manager": world["manager1"].pk},
            "channels": ["in_person"]}, format="json"),
        "push_detail": lambda: client.get(f"/api/v1/research/pushes/{objs['push'].pk}/"),
        "feed": lambda: client.get(f"/api/v1/research/clients/{world.client_m1.pk}/feed/"),
    }  # fmt: skip
    return calls[key]()


@pytest.mark.parametrize(("role", "key", "expected"), CASES)
def test_api_permission_matrix(objs, rworld, world, role, key, expected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _call(key, rworld, world, objs, api_client(world[role]))
    assert response.status_code == expected, (role, key, response.status_code, response.content[:300])


@pytest.mark.parametrize("key", list(API_MATRIX))
def test_api_anonymous_is_401(objs, rworld, world, key):
    assert _call(key, rworld, world, objs, api_client()).status_code == 401


def test_api_review_walk_and_refusals(rworld, world):
    researcher, reviewer = api_client(world["researcher1"]), api_client(world["compliance1"])
    created = researcher.post("/api/v1/research/items/", {
        "source": rworld.own.pk, "kind": "recommendation", "title": "兆易创新：增持", "risk_rating": "R4",
        "security": rworld.semi2.pk, "direction": "add", "target_price": "120", "stop_loss": "90",
        "horizon_days": 30, "reason": "周期回暖"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["state"] == "draft" and body["publisher"] == "浦东营业部研究组" and body["actions"] == ["submit"]
    )
    pk = body["id"]
    hidden = reviewer.post(f"/api/v1/research/items/{pk}/review/", {"decision": "approve"}, format="json")
    assert hidden.status_code == 404  # reviewers do not see drafts
    assert (
        researcher.post(f"/api/v1/research/items/{pk}/submit/", {}, format="json").json()["state"] == "review"
    )
    rej = reviewer.post(
        f"/api/v1/research/items/{pk}/review/", {"decision": "reject", "comment": ""}, format="json"
    )
    assert rej.status_code == 400 and ResearchItem.objects.get(pk=pk).state == "review"
    ok = reviewer.post(f"/api/v1/research/items/{pk}/publish/", {"note": "同意"}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "published" and ok.json()["published_on"]
    again = reviewer.post(f"/api/v1/research/items/{pk}/publish/", {}, format="json")
    assert again.status_code == 400 and "不能执行" in str(again.json())
    assert (
        researcher.post(
            f"/api/v1/research/items/{pk}/review/", {"decision": "approve"}, format="json"
        ).status_code
        == 403
    )
    stale = researcher.patch(f"/api/v1/research/items/{rworld.draft.pk}/", {
        "source": rworld.own.pk, "kind": "report", "title": "x", "version": 99}, format="json")  # fmt: skip
    assert stale.status_code == 409
    unknown = researcher.post(f"/api/v1/research/items/{pk}/explode/", {}, format="json")
    assert unknown.status_code == 404


def test_api_search_and_filters(rworld, world):
    c = api_client(world["consultant1"])
    titles = {r["title"] for r in c.get("/api/v1/research/items/", {"search": "国产替代"}).json()["results"]}
    assert titles == {"半导体设备国产化深度报告"}
    recs = c.get("/api/v1/research/items/", {"kind": "recommendation"}).json()["results"]
    assert [r["title"] for r in recs] == ["中芯国际：买入"] and recs[0]["security_ref"]["code"] == "688981"


def test_api_push_preview_shows_exclusions(rworld, world):
    c = api_client(world["director"])
    r = c.post("/api/v1/research/pushes/", {"item": rworld.rec.pk, "audience": {"kind": "holders", "security": rworld.semi.pk},
                                            "channels": ["sms"], "preview": True}, format="json")  # fmt: skip
    assert r.status_code == 200
    body = r.json()
    assert body["included_count"] == 0 and {e["name"] for e in body["excluded"]} == {"李四", "赵六"}
    assert all(e["reason"] for e in body["excluded"])
    assert not ResearchDelivery.objects.exists()


def test_api_feed(rworld, world, django_assert_max_num_queries):
    c = api_client(world["manager1"])
    r = c.get(f"/api/v1/research/clients/{world.client_m1.pk}/feed/")
    assert {i["title"] for i in r.json()} == {"中芯国际：买入", "半导体设备国产化深度报告"}


def test_api_list_query_count(rworld, world, django_assert_max_num_queries):
    c = api_client(world["consultant1"])
    c.get("/api/v1/research/items/")
    with django_assert_max_num_queries(10):
        assert c.get("/api/v1/research/items/").status_code == 200


def test_schema_lists_research_routes(world):
    c = api_client(world["admin"])
    r = c.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ["/api/v1/research/sources/", "/api/v1/research/items/", "/api/v1/research/items/{id}/{action}/",
              "/api/v1/research/items/{id}/attachments/", "/api/v1/research/pushes/",
              "/api/v1/research/clients/{client_id}/feed/"]:  # fmt: skip
        assert p in paths, p


assert ROLES
