"""Research services: the review workflow, the licence rule, suitability, search and deliveries."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog, NotificationDelivery, TransitionLog
from branchcare.research import selectors as sel
from branchcare.research import services as svc
from branchcare.research.models import ResearchDelivery, ResearchItem, ResearchPush
from branchcare.research.search import index_tokens, query_tokens

from .conftest import make_item

S = ResearchItem.State


# --- sources ---------------------------------------------------------------------------------------------


def test_source_validity_rules(rworld):
    today = timezone.localdate()
    assert rworld.own.is_valid_on(today) and rworld.head.is_valid_on(today)
    assert rworld.partner.is_valid_on(today)
    assert not rworld.expired_partner.is_valid_on(today)
    assert "到期" in rworld.expired_partner.invalid_reason(today)
    rworld.partner.licence_no = ""
    assert not rworld.partner.is_valid_on(today)
    rworld.own.active = False
    assert not rworld.own.is_valid_on(today)
    # the query mirrors the method
    valid = set(
        type(rworld.own).objects.filter(sel.valid_source_q(today, prefix="")).values_list("name", flat=True)
    )
    assert valid == {"总部研究所", "复旦金融研究院", "浦东营业部研究组", "西湖营业部研究组"}


def test_source_create_and_update_are_audited(world):
    s = svc.source_create(actor=world["researcher1"], data={"kind": "external", "name": "外脑甲", "licence_no": "L1",
                          "contract_start": dt.date(2025, 1, 1), "contract_end": dt.date(2030, 1, 1)})  # fmt: skip
    assert s.branch_id == world.b1.pk or s.branch_id is None
    s2 = svc.source_update(actor=world["researcher1"], source=s, data={"name": "外脑乙"}, version=s.version)
    assert s2.name == "外脑乙" and s2.version == 2
    with pytest.raises(DomainError):
        svc.source_update(actor=world["researcher1"], source=s2, data={"name": "旧版本"}, version=1)
    assert AuditLog.objects.filter(action__startswith="research.source").count() == 2
    with pytest.raises(DomainError):
        svc.source_create(actor=world["consultant1"], data={"kind": "own", "name": "x"})


def test_source_contract_end_before_start_refused(world):
    with pytest.raises(DomainError) as exc:
        svc.source_create(actor=world["director"], data={"kind": "external", "name": "x",
                          "contract_start": dt.date(2025, 5, 1), "contract_end": dt.date(2025, 1, 1)})  # fmt: skip
    assert exc.value.field == "contract_end"


# --- workflow --------------------------------------------------------------------------------------------


def test_full_workflow_records_decision(rworld, world):
    item = make_item(world["researcher1"], rworld.own, state="draft", title="新报告")
    item = svc.item_submit(actor=world["researcher1"], item=item)
    assert item.state == S.REVIEW and item.submitted_at
    item = svc.item_review(actor=world["compliance1"], item=item, decision="reject", comment="请补充风险提示")
    assert (
        item.state == S.DRAFT and item.review_comment == "请补充风险提示" and item.review_decision == "reject"
    )
    item = svc.item_submit(actor=world["researcher1"], item=item)
    item = svc.item_review(actor=world["compliance1"], item=item, decision="approve")
    assert item.state == S.PUBLISHED and item.published_on == timezone.localdate()
    assert item.publisher == "浦东营业部研究组" and item.reviewed_by == world["compliance1"]
    item = svc.item_withdraw(actor=world["compliance1"], item=item, reason="数据有误")
    assert item.state == S.WITHDRAWN
    steps = list(
        TransitionLog.objects.filter(workflow="research", object_id=str(item.pk)).values_list(
            "transition", flat=True
        )
    )
    assert steps == ["submit", "reject", "submit", "approve", "withdraw"]


@pytest.mark.parametrize(
    ("which", "actor", "step"),
    [
        ("draft", "compliance1", "approve"),  # not in review
        ("published", "researcher1", "submit"),  # already published
        ("review", "researcher1", "approve"),  # researcher may not review
        ("review", "consultant1", "approve"),
        ("draft", "consultant1", "submit"),
        ("review", "compliance1", "reject_without_comment"),
        ("draft", "researcher1", "withdraw"),
        ("published", "consultant1", "withdraw"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(rworld, world, which, actor, step):
    item = {"draft": rworld.draft, "review": rworld.review, "published": rworld.published}[which]
    before = (item.state, item.version, item.review_comment)
    logs = TransitionLog.objects.count()
    audits = AuditLog.objects.count()
    with pytest.raises(DomainError):
        if step == "submit":
            svc.item_submit(actor=world[actor], item=item)
        elif step == "approve":
            svc.item_review(actor=world[actor], item=item, decision="approve")
        elif step == "reject_without_comment":
            svc.item_review(actor=world[actor], item=item, decision="reject", comment="  ")
        else:
            svc.item_withdraw(actor=world[actor], item=item, reason="x")
    item.refresh_from_db()
    assert (item.state, item.version, item.review_comment) == before
    assert TransitionLog.objects.count() == logs and AuditLog.objects.count() == audits


def test_author_cannot_approve_own_item(rworld, world):
    # a researcher who also reviews (e.g. a senior analyst) still may not approve their own work
    item = rworld.review
    item.author = world["compliance1"]
    item.save(update_fields=["author"])
    with pytest.raises(DomainError):
        svc.item_review(actor=world["compliance1"], item=item, decision="approve")
    item.refresh_from_db()
    assert item.state == S.REVIEW


def test_only_drafts_are_editable_and_version_checked(rworld, world):
    with pytest.raises(DomainError):
        svc.item_update(actor=world["researcher1"], item=rworld.published, data={"title": "改"})
    d = svc.item_update(
        actor=world["researcher1"],
        item=rworld.draft,
        data={"title": "银行半年报点评"},
        version=rworld.draft.version,
    )
    assert d.title == "银行半年报点评" and d.version == rworld.draft.version + 1
    with pytest.raises(DomainError) as exc:
        svc.item_update(actor=world["researcher1"], item=d, data={"title": "x"}, version=1)
    assert exc.value.code == "conflict"


def test_recommendation_requires_fields(rworld, world):
    with pytest.raises(DomainError) as exc:
        svc.item_create(
            actor=world["researcher1"], data={"source": rworld.own, "kind": "recommendation", "title": "推荐"}
        )
    assert exc.value.field == "security"
    with pytest.raises(DomainError) as exc:
        svc.item_create(actor=world["researcher1"], data={
            "source": rworld.own, "kind": "recommendation", "title": "推荐", "security": rworld.semi,
            "direction": "buy", "reason": "r", "target_price": Decimal("10"), "stop_loss": Decimal("12")})  # fmt: skip
    assert exc.value.field == "stop_loss"
    assert not ResearchItem.objects.filter(title="推荐").exists()


def test_recommendation_expiry_from_horizon_and_periodic_expiry(rworld, world):
    assert rworld.rec.expires_on == timezone.localdate() + dt.timedelta(days=60)
    assert svc.expire_due() == 1  # the fixture's expired commentary
    rworld.expired_item.refresh_from_db()
    assert rworld.expired_item.state == S.EXPIRED
    assert svc.expire_due() == 0


def test_cannot_publish_under_another_branch_source(rworld, world):
    with pytest.raises(DomainError) as exc:
        svc.item_create(
            actor=world["researcher1"], data={"source": rworld.b2_own, "kind": "report", "title": "x"}
        )
    assert exc.value.field == "source"


# --- search ----------------------------------------------------------------------------------------------


def test_tokens():
    assert "半导" in index_tokens("半导体") and " 体 " in index_tokens("半导体")
    assert query_tokens("半导体 ABC") == [("半导", False), ("导体", False), ("abc", True)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("半导体", {"半导体设备国产化深度报告", "中芯国际：买入", "过期的解盘"}),  # title, industry tags
        ("国产替代", {"半导体设备国产化深度报告"}),
        ("刻蚀设备", {"半导体设备国产化深度报告"}),
        ("中芯", {"中芯国际：买入"}),
        ("688981", {"中芯国际：买入"}),
        ("订单饱满", {"中芯国际：买入"}),
        ("银行", {"银行业季度展望", "银行板块草稿"}),
        ("不存在的词", set()),
    ],
)
def test_chinese_full_text_search(rworld, world, q, expected):
    titles = set(
        sel.item_list(viewer=world["researcher1"], filters=sel.ItemFilters(q=q)).values_list(
            "title", flat=True
        )
    )
    assert titles == expected


def test_reader_sees_only_published_states(rworld, world):
    titles = set(sel.item_list(viewer=world["consultant1"]).values_list("title", flat=True))
    assert "银行板块草稿" not in titles and "银行业季度展望" not in titles
    assert "半导体设备国产化深度报告" in titles and "西湖研究" not in titles
    assert not sel.item_list(viewer=world["agent1"]).exists()
    reviewer_titles = set(sel.item_list(viewer=world["compliance1"]).values_list("title", flat=True))
    assert "银行业季度展望" in reviewer_titles and "银行板块草稿" not in reviewer_titles


def test_filters(rworld, world):
    v = world["researcher1"]
    assert list(sel.item_list(viewer=v, filters=sel.ItemFilters(kind="recommendation"))) == [rworld.rec]
    assert set(sel.item_list(viewer=v, filters=sel.ItemFilters(security="600036"))) == {rworld.review}
    assert rworld.published in sel.item_list(viewer=v, filters=sel.ItemFilters(industry="半导体"))
    assert set(sel.item_list(viewer=v, filters=sel.ItemFilters(risk="R4"))) == {rworld.rec}
    assert set(sel.item_list(viewer=v, filters=sel.ItemFilters(source=rworld.head.pk))) == {rworld.published}


# --- suitability and personalisation -----------------------------------------------------------------------


def test_suitability_check(rworld, world):
    ok = svc.suitability_check(item=rworld.rec, client=world.client_m1)  # R4 vs C4
    assert ok["ok"] and not ok["excluded"]
    low = svc.suitability_check(item=rworld.rec, client=world.client_m2)  # R4 vs C2
    assert low["excluded"] and "R4" in low["reason"] and "C2" in low["reason"]
    none = svc.suitability_check(item=rworld.rec, client=rworld.client_low)
    assert none["excluded"] and "未做风险测评" in none["reason"]


def test_research_for_client(rworld, world):
    # client_m1 (C4) holds 兆易创新 (半导体): same-industry report and the R4 recommendation on 中芯? no — rec
    # is on 中芯国际, whose industry 半导体 is also held, so both are relevant.
    items = sel.research_for_client(client=world.client_m1)
    assert set(items) == {rworld.published, rworld.rec}
    # client_m2 (C2) holds 中芯国际 directly but both items are above R2
    assert sel.research_for_client(client=world.client_m2) == []
    # an unassessed client sees R1 only; the expired R1 commentary is not shown
    assert sel.research_for_client(client=rworld.client_low) == []
    # B002's own research reaches B002's clients only (plus the company-wide head-office report, R3 ≤ C3)
    assert set(sel.research_for_client(client=world.client_b2)) == {rworld.b2_item, rworld.published}
    assert rworld.b2_item not in sel.research_for_client(client=world.client_m1)


def test_research_for_client_excludes_invalid_sources_and_withdrawn(rworld, world):
    item = make_item(
        world["researcher1"],
        rworld.partner,
        reviewer=world["compliance1"],
        title="外脑半导体",
        industries=["半导体"],
    )
    assert item in sel.research_for_client(client=world.client_m1)
    type(rworld.partner).objects.filter(pk=rworld.partner.pk).update(
        contract_end=timezone.localdate() - dt.timedelta(days=1)
    )
    assert item not in sel.research_for_client(client=world.client_m1)
    svc.item_withdraw(actor=world["researcher1"], item=rworld.published, reason="撤回")
    assert rworld.published not in sel.research_for_client(client=world.client_m1)


def test_research_for_client_query_count(rworld, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        sel.research_for_client(client=world.client_m1)


def test_citable_items(rworld, world):
    items = sel.citable_items(viewer=world["consultant1"], q="国产化")
    assert items == [rworld.published]
    assert items[0].publisher and items[0].published_on
    assert sel.citable_items(viewer=world["agent1"]) == []


# --- deliveries --------------------------------------------------------------------------------------------


def test_unlicensed_source_blocked_at_delivery(rworld, world):
    item = make_item(
        world["researcher1"],
        rworld.partner,
        reviewer=world["compliance1"],
        title="外脑报告",
        risk_rating="R1",
    )
    type(rworld.partner).objects.filter(pk=rworld.partner.pk).update(licence_no="")
    item.refresh_from_db()
    item = ResearchItem.objects.select_related("source").get(pk=item.pk)
    with pytest.raises(DomainError) as exc:
        svc.delivery_record(
            actor=world["consultant1"], item=item, client=world.client_m1, channel="consultation"
        )
    assert "第十七条" in exc.value.message
    assert not ResearchDelivery.objects.exists()


def test_delivery_refused_for_unpublished_and_unsuitable(rworld, world):
    with pytest.raises(DomainError):
        svc.delivery_record(
            actor=world["consultant1"], item=rworld.review, client=world.client_m1, channel="consultation"
        )
    with pytest.raises(DomainError) as exc:
        svc.delivery_record(
            actor=world["consultant1"], item=rworld.rec, client=world.client_m2, channel="consultation"
        )
    assert "适当性" in exc.value.message
    assert not ResearchDelivery.objects.exists()
    d = svc.delivery_record(actor=world["consultant1"], item=rworld.rec, client=world.client_m2, channel="consultation",
                            allow_unsuitable=True)  # fmt: skip
    assert d.suitability["warning_acknowledged"] and d.status == "done"


def test_delivery_consultation_is_done_and_on_timeline(rworld, world):
    from branchcare.core.timeline import events_for_client

    d = svc.delivery_record(
        actor=world["consultant1"],
        item=rworld.rec,
        client=world.client_m1,
        channel="consultation",
        note="引用",
    )
    assert d.status == "done" and d.suitability["ok"] and d.delivered_by == world["consultant1"]
    now = timezone.now()
    events = events_for_client(
        client=world.client_m1,
        viewer=world["manager1"],
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=1),
    )
    assert any(e.kind == "research" and rworld.rec.title in e.detail for e in events)
    assert AuditLog.objects.filter(action="research.delivery.record").exists()


def test_channel_failure_is_recorded_and_retried(rworld, world, settings, django_capture_on_commit_callbacks):
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": ""}
    with django_capture_on_commit_callbacks(execute=True):
        d = svc.delivery_record(
            actor=world["manager1"], item=rworld.rec, client=world.client_m1, channel="sms"
        )
    d.refresh_from_db()
    assert d.status == "failed" and "WEBHOOK_URL" in d.failure_reason
    nd = NotificationDelivery.objects.get(notification_id=d.notification_id)
    assert nd.status == "pending" and nd.attempts == 1 and nd.next_attempt_at  # will be retried


def test_failed_delivery_can_be_sent_again(
    rworld, world, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": ""}
    with django_capture_on_commit_callbacks(execute=True):
        d = svc.delivery_record(
            actor=world["manager1"], item=rworld.rec, client=world.client_m1, channel="email"
        )
    d.refresh_from_db()
    assert d.status == "failed"

    class Resp:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(
        "branchcare.research.services.urllib.request.urlopen", lambda request, timeout=10: Resp()
    )
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": "http://gateway.invalid/hook"}
    with django_capture_on_commit_callbacks(execute=True):
        svc.delivery_retry(actor=world["manager1"], delivery=d)
    d.refresh_from_db()
    assert d.status == "sent" and not d.failure_reason
    with pytest.raises(DomainError):
        svc.delivery_retry(actor=world["manager1"], delivery=d)  # only failed ones


def test_channel_success(rworld, world, settings, django_capture_on_commit_callbacks, monkeypatch):
    sent = []

    class Resp:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def fake_urlopen(request, timeout=10):
        sent.append(request.data.decode())
        return Resp()

    monkeypatch.setattr("branchcare.research.services.urllib.request.urlopen", fake_urlopen)
    settings.BRANCHCARE = {**settings.BRANCHCARE, "WEBHOOK_URL": "http://gateway.invalid/hook"}
    with django_capture_on_commit_callbacks(execute=True):
        d = svc.delivery_record(
            actor=world["manager1"], item=rworld.rec, client=world.client_m1, channel="wecom"
        )
    d.refresh_from_db()
    assert d.status == "sent" and d.delivered_at
    assert '"channel": "wecom"' in sent[0] and world.client_m1.client_no in sent[0]
    assert "13812345678" not in sent[0]


def test_push_holders_includes_and_excludes_with_reasons(rworld, world, django_capture_on_commit_callbacks):
    from branchcare.testing.factories import HoldingFactory

    actor = world["director"]
    audience = {"kind": "holders", "security": rworld.semi.pk}
    preview = svc.push_preview(actor=actor, item=rworld.rec, audience=audience)
    assert {c.name for c, _ in preview["excluded"]} == {"李四", "赵六"}
    assert preview["total"] == 2  # client_b2 is outside the director's branch
    with pytest.raises(DomainError) as exc:  # nobody suitable: refused
        svc.push_create(actor=actor, item=rworld.rec, audience=audience, channels=["in_person"])
    assert "适当性" in exc.value.message
    HoldingFactory(
        client=world.client_m1,
        security=rworld.semi,
        quantity=100,
        cost_price=Decimal("50"),
        as_of=timezone.localdate(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        push = svc.push_create(actor=actor, item=rworld.rec, audience=audience, channels=["in_person", "sms"])
    push.refresh_from_db()
    assert push.status == ResearchPush.Status.DONE and push.excluded_count == 2 and push.included_count == 1
    assert {e["name"] for e in push.excluded} == {"李四", "赵六"}
    assert set(push.deliveries.values_list("client__name", "channel")) == {
        ("张三", "in_person"),
        ("张三", "sms"),
    }


def test_push_in_person_creates_tasks_for_manager(rworld, world, django_capture_on_commit_callbacks):
    actor = world["consultant1"]
    audience = {"kind": "manager", "manager": world["manager1"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        push = svc.push_create(actor=actor, item=rworld.published, audience=audience, channels=["in_person"])
    push.refresh_from_db()
    tasks = sel.my_delivery_tasks(user=world["manager1"])
    assert [t.client for t in tasks] == [world.client_m1]
    assert push.task_count == 1
    with pytest.raises(DomainError):
        svc.delivery_mark_done(actor=world["manager2"], delivery=tasks[0])
    d = svc.delivery_mark_done(actor=world["manager1"], delivery=tasks[0], note="客户已阅")
    assert d.status == "done" and d.delivered_by == world["manager1"]
    with pytest.raises(DomainError):
        svc.delivery_mark_done(actor=world["manager1"], delivery=d)


def test_push_refused_for_invalid_source(rworld, world):
    item = ResearchItem.objects.create(source=rworld.expired_partner, branch=world.b1, title="过期外脑", state="published",
                                       published_on=timezone.localdate(), risk_rating="R1")  # fmt: skip
    with pytest.raises(DomainError) as exc:
        svc.push_create(actor=world["director"], item=item, audience={"kind": "premium"}, channels=["sms"])
    assert "第十七条" in exc.value.message
    preview = svc.push_preview(actor=world["director"], item=item, audience={"kind": "tier", "tier": "small"})
    assert preview["included_count"] == 0
    assert all("合同" in r["reason"] for _, r in preview["excluded"])
    assert not ResearchPush.objects.exists()


def test_push_requires_channel_and_capability(rworld, world):
    with pytest.raises(DomainError):
        svc.push_create(actor=world["director"], item=rworld.rec, audience={"kind": "premium"}, channels=[])
    with pytest.raises(DomainError):
        svc.push_create(
            actor=world["researcher1"], item=rworld.rec, audience={"kind": "premium"}, channels=["sms"]
        )
    with pytest.raises(DomainError):
        svc.push_preview(actor=world["director"], item=rworld.rec, audience={"kind": "nonsense"})


# --- attachments -------------------------------------------------------------------------------------------


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_attachment_type_checked_by_content(rworld, world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    actor = world["researcher1"]
    att = svc.attachment_add(
        actor=actor, item=rworld.draft, upload=SimpleUploadedFile("报告.pdf", b"%PDF-1.4 test")
    )
    assert att.content_type == "application/pdf" and att.original_name == "报告.pdf"
    att2 = svc.attachment_add(actor=actor, item=rworld.draft, upload=SimpleUploadedFile("a.docx", _docx()))
    assert "wordprocessingml" in att2.content_type
    for name, data in [
        ("fake.pdf", b"MZ\x90\x00 exe"),
        ("x.exe", b"%PDF-1.4"),
        ("a.xlsx", _docx()),
        ("e.pdf", b""),
    ]:
        with pytest.raises(DomainError):
            svc.attachment_add(actor=actor, item=rworld.draft, upload=SimpleUploadedFile(name, data))
    settings.BRANCHCARE = {**settings.BRANCHCARE, "RESEARCH_ATTACHMENT_MAX_MB": 0}
    with pytest.raises(DomainError) as exc:
        svc.attachment_add(
            actor=actor, item=rworld.draft, upload=SimpleUploadedFile("big.pdf", b"%PDF-1.4 x")
        )
    assert "MB" in exc.value.message
    with pytest.raises(DomainError):
        svc.attachment_add(
            actor=actor, item=rworld.published, upload=SimpleUploadedFile("p.pdf", b"%PDF-1.4")
        )
    assert rworld.draft.attachments.count() == 2


def test_events_published(rworld, world):
    from branchcare.core import events

    seen: list[tuple[str, dict]] = []
    events.subscribe("research.published", lambda **p: seen.append(("published", p)), key="t-pub")
    events.subscribe("research.delivered", lambda **p: seen.append(("delivered", p)), key="t-del")
    try:
        item = make_item(
            world["researcher1"],
            rworld.own,
            reviewer=world["compliance1"],
            title="事件测试",
            risk_rating="R1",
        )
        svc.delivery_record(
            actor=world["consultant1"], item=item, client=world.client_m1, channel="consultation"
        )
    finally:
        events._handlers["research.published"].pop("t-pub", None)
        events._handlers["research.delivered"].pop("t-del", None)
    assert [k for k, _ in seen] == ["published", "delivered"]
    assert seen[0][1]["item_id"] == item.pk and seen[1][1]["client_id"] == world.client_m1.pk


def test_items_created_through_the_orm_are_searchable(rworld, world):
    item = ResearchItem.objects.create(source=rworld.head, title="光伏行业周报", body="硅料价格企稳", state="published",
                                       industries=["光伏"], published_on=timezone.localdate())  # fmt: skip
    assert item.publisher == "总部研究所" and item.industry_tags == "|光伏|"
    found = sel.item_list(viewer=world["consultant1"], filters=sel.ItemFilters(q="硅料"))
    assert list(found) == [item]


def test_english_catalogue():
    from django.utils import translation

    with translation.override("en"):
        assert str(ResearchItem.State.REVIEW.label) == "In compliance review"
