"""Advice citing research items: the automatic snapshot (Art. 18), refusals for unpublished items and
invalid sources, the HTMX search and row endpoints, the advice page, the letter and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from branchcare.core.errors import DomainError
from branchcare.onsite import services_consultations as svc
from branchcare.onsite.models import Advice, AdviceCitation, ConsultationOrder
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.testing.factories import HoldingFactory, SecurityFactory

S = ConsultationOrder.State


def _item(source, title, *, state="published", branch=None, **kw):
    today = timezone.localdate()
    return ResearchItem.objects.create(
        source=source, branch=branch if branch is not None else source.branch, title=title, state=state,
        publisher=kw.pop("publisher", "总部研究所"), published_on=kw.pop("published_on", today - dt.timedelta(days=2)),
        published_at=timezone.now(), risk_rating="R2", kind="report", **kw,
    )  # fmt: skip


@pytest.fixture
def cite(world):
    consultant = world["consultant1"]
    consultant.practice_no = "A0120612345678"
    consultant.save(update_fields=["practice_no"])
    today = timezone.localdate()
    sec = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    HoldingFactory(client=world.client_m1, security=sec, quantity=1000, cost_price=Decimal("35"))
    head = ResearchSource.objects.create(branch=None, kind="head_office", name="总部研究所")
    lapsed = ResearchSource.objects.create(
        branch=world.b1, kind="external", name="某咨询公司", licence_no="ZX-2020-009",
        contract_start=today - dt.timedelta(days=800), contract_end=today - dt.timedelta(days=10),
    )  # fmt: skip
    good = _item(head, "银行业季度展望", publisher="总部研究所", published_on=dt.date(2026, 11, 20))
    other = _item(head, "券商板块点评")
    outdated = _item(lapsed, "外脑旧报告", publisher="某咨询公司")
    draft = _item(head, "未发布草稿", state="draft")
    order = svc.order_create(actor=world["manager1"], client=world.client_m1, question="银行股怎么看？")
    svc.order_submit(actor=world["manager1"], order=order)
    order = ConsultationOrder.objects.get(pk=order.pk)
    return type(
        "Cite", (),
        {"w": world, "c": consultant, "sec": sec, "order": order, "good": good, "other": other,
         "outdated": outdated, "draft": draft},
    )  # fmt: skip


def _save(p, citations, **kw):
    return svc.advice_save(
        actor=p.c,
        order=ConsultationOrder.objects.get(pk=p.order.pk),
        overall="继续持有",
        risk_warning=svc.RISK_WARNING_DEFAULT,
        lines=[svc.LineInput(p.sec.pk, "hold", "估值合理")],
        citations=citations,
        **kw,
    )


def test_citation_snapshot_is_filled_automatically(cite):
    advice = _save(cite, [cite.good.pk, str(cite.other.pk), cite.good.pk])
    rows = list(
        advice.citations.values_list("rank", "research_item_id", "title", "publisher", "published_on")
    )
    assert rows[0] == (1, cite.good.pk, "银行业季度展望", "总部研究所", dt.date(2026, 11, 20))
    assert [r[1] for r in rows] == [cite.good.pk, cite.other.pk]  # order kept, duplicate dropped
    # the snapshot does not follow later edits of the research item
    ResearchItem.objects.filter(pk=cite.good.pk).update(title="改过的标题")
    assert AdviceCitation.objects.get(advice=advice, rank=1).title == "银行业季度展望"


@pytest.mark.parametrize(
    ("which", "message"),
    [("outdated", "合同已于"), ("draft", "不存在或您无权查看"), (None, "编号无效")],
)
def test_citing_refused_changes_nothing(cite, which, message):
    ids = [getattr(cite, which).pk] if which else ["abc"]
    with pytest.raises(DomainError, match=message) as exc:
        _save(cite, [cite.good.pk, *ids])
    assert exc.value.field == "citations"
    assert not Advice.objects.exists() and not AdviceCitation.objects.exists()


def test_published_item_from_lapsed_source_refused_even_if_withdrawn_later(cite):
    ResearchItem.objects.filter(pk=cite.other.pk).update(state="withdrawn")
    with pytest.raises(DomainError, match="未发布或已过期"):
        _save(cite, [cite.other.pk])


def test_search_lists_citable_items_only(cite, login):
    client = login("consultant1")
    url = reverse("onsite:consultation_cite_search", args=[cite.order.pk])
    body = client.get(url, {"q": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "银行业季度展望" in body and "券商板块点评" in body
    assert "外脑旧报告" not in body and "未发布草稿" not in body


def test_row_endpoint_snapshot_and_refusal(cite, login):
    client = login("consultant1")
    url = reverse("onsite:consultation_cite_row", args=[cite.order.pk])
    ok = client.get(url, {"item": cite.good.pk}).content.decode()
    assert 'name="citations"' in ok and f'value="{cite.good.pk}"' in ok and "2026-11-20" in ok
    refused = client.get(url, {"item": cite.outdated.pk}).content.decode()
    assert "合同已于" in refused and 'name="citations"' not in refused


def test_advice_form_posts_citations_and_pages_show_them(cite, login):
    client = login("consultant1")
    url = reverse("onsite:consultation_advice", args=[cite.order.pk])
    assert 'id="cite-q"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            f"action_{cite.sec.pk}": "hold", f"rationale_{cite.sec.pk}": "估值合理", "overall": "持有",
            "risk_warning": svc.RISK_WARNING_DEFAULT, "citations": [cite.good.pk], "submit": "1",
        },
    )  # fmt: skip
    assert response.status_code == 302
    advice = Advice.objects.get()
    assert list(advice.citations.values_list("title", flat=True)) == ["银行业季度展望"]
    detail = (
        login("manager1").get(reverse("onsite:consultation_detail", args=[cite.order.pk])).content.decode()
    )
    assert "引用研究资料" in detail and "《银行业季度展望》" in detail


def test_advice_form_refusal_keeps_the_ticked_items(cite, login):
    client = login("consultant1")
    url = reverse("onsite:consultation_advice", args=[cite.order.pk])
    body = client.post(
        url,
        {
            f"action_{cite.sec.pk}": "hold", f"rationale_{cite.sec.pk}": "估值合理", "overall": "持有",
            "risk_warning": svc.RISK_WARNING_DEFAULT, "citations": [cite.good.pk, cite.outdated.pk],
        },
    ).content.decode()  # fmt: skip
    assert "合同已于" in body, body[body.find("advice-error") - 50 : body.find("advice-error") + 300]
    assert f'value="{cite.good.pk}"' in body, body[
        body.find("cite-selected") - 20 : body.find("cite-selected") + 600
    ]
    assert not Advice.objects.exists()


def test_letter_lists_the_citations(cite):
    advice = _save(cite, [cite.good.pk])
    from branchcare.onsite.pdf_consultations import advice_letter_pdf

    pdf = advice_letter_pdf(order=cite.order, advice=advice)
    assert pdf.startswith(b"%PDF")
    # the heading is drawn: its glyphs are in the embedded font's ToUnicode map
    from branchcare.onsite.tests.pdftext import pdf_unicode_chars as _pdf_unicode_chars

    assert set("引用研究资料银行业季度展望") <= _pdf_unicode_chars(pdf) or b"STSong-Light" in pdf


def test_api_advice_with_citations(cite):
    from branchcare.api.testing import api_client

    api = api_client(cite.c)
    url = f"/api/v1/consultations/{cite.order.pk}/advice/"
    body = {
        "overall": "持有", "risk_warning": svc.RISK_WARNING_DEFAULT,
        "lines": [{"security": cite.sec.pk, "action": "hold", "rationale": "估值合理"}],
        "citations": [cite.good.pk],
    }  # fmt: skip
    response = api.post(url, body, format="json")
    assert response.status_code in (200, 201), response.json()
    data = response.json()
    assert (
        data["citations"][0]["title"] == "银行业季度展望"
        and data["citations"][0]["publisher"] == "总部研究所"
    )
    refused = api.post(url, {**body, "citations": [cite.outdated.pk]}, format="json")
    assert refused.status_code == 400 and "citations" in refused.json()
