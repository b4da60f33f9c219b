"""Consultation pipeline services: transitions, rework, suitability, SLA, overdue, immutability, ratings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from branchcare.core.errors import DomainError
from branchcare.core.models import Notification, TransitionLog
from branchcare.core.sla import SHANGHAI
from branchcare.onsite import services_consultations as svc
from branchcare.onsite.models import Advice, ConsultationOrder
from branchcare.onsite.pdf_consultations import advice_letter_pdf
from branchcare.onsite.tests.pdftext import pdf_unicode_chars as _pdf_unicode_chars
from branchcare.testing.factories import HoldingFactory, SecurityFactory, UserFactory

S = ConsultationOrder.State
# Wednesday 2026-11-25 10:30 in Shanghai, a trading day; the default standard gives 4 service hours in
# the trading sessions 09:30–11:30 and 13:00–15:00.
NOW = dt.datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def pipe(world):
    """manager1's client 张三 (C3) holding a R2 and a R3 stock; consultant1 with a 执业编号."""
    consultant = world["consultant1"]
    consultant.practice_no = "A0120612345678"
    consultant.save(update_fields=["practice_no"])
    low = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    mid = SecurityFactory(code="600519", name="贵州茅台", risk_rating="R3")
    high = SecurityFactory(code="688981", name="中芯国际", risk_rating="R4")
    HoldingFactory(client=world.client_m1, security=low, quantity=1000, cost_price=Decimal("35.20"))
    HoldingFactory(client=world.client_m1, security=mid, quantity=100, cost_price=Decimal("1600"))
    return type("Pipe", (), {"w": world, "low": low, "mid": mid, "high": high, "consultant": consultant})


def lines(p, **overrides) -> list[svc.LineInput]:
    out = [
        svc.LineInput(p.low.pk, "hold", "估值合理，继续持有"),
        svc.LineInput(p.mid.pk, "reduce", "仓位过重，建议减仓"),
    ]
    for code, action in overrides.items():
        security = {"high": p.high, "low": p.low, "mid": p.mid}[code]
        out = [line for line in out if line.security_id != security.pk]
        out.append(svc.LineInput(security.pk, action, "理由"))
    return out


def new_order(p) -> ConsultationOrder:
    return svc.order_create(actor=p.w["manager1"], client=p.w.client_m1, question="持仓是否需要调整？")


def write_advice(p, order, *, submit=True, now=None, **kw) -> Advice:
    return svc.advice_save(
        actor=p.consultant,
        order=order,
        overall="整体仓位适中，注意控制单一个股集中度。",
        risk_warning=svc.RISK_WARNING_DEFAULT,
        lines=kw.pop("lines", None) or lines(p),
        submit=submit,
        now=now,
        **kw,
    )


def refresh(order) -> ConsultationOrder:
    return ConsultationOrder.objects.get(pk=order.pk)


def to_delivered(p, order) -> ConsultationOrder:
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    write_advice(p, refresh(order), now=NOW)
    svc.order_accept(actor=p.w["manager1"], order=refresh(order), now=NOW)
    svc.order_confirm_delivery(
        actor=p.w["manager1"], order=refresh(order), delivery_method="in_person", client_response="认可"
    )
    return svc.order_confirm_delivery(actor=p.consultant, order=refresh(order))


# --- happy path -----------------------------------------------------------------------------------------


def test_full_happy_path(pipe, django_capture_on_commit_callbacks):
    p = pipe
    manager, consultant = p.w["manager1"], p.consultant
    # given a draft with the holdings snapshot
    order = new_order(p)
    assert order.state == S.DRAFT
    assert order.holdings.count() == 2
    # when it goes through every step
    with django_capture_on_commit_callbacks(execute=True):
        order = svc.order_submit(actor=manager, order=order, now=NOW)
    assert order.consultant == consultant and order.due_at and order.warn_at
    assert Notification.objects.filter(recipient=consultant, title__contains="新咨询单").exists()
    svc.order_start_analysis(actor=consultant, order=order)
    advice = write_advice(p, refresh(order))
    order = refresh(order)
    assert order.state == S.ADVICE_READY
    assert advice.practice_no == "A0120612345678" and advice.submitted_at
    svc.order_accept(actor=manager, order=order)
    order = svc.order_confirm_delivery(
        actor=manager, order=refresh(order), delivery_method="in_person", client_response="客户认可"
    )
    assert order.state == S.ACCEPTED and order.manager_confirmed
    order = svc.order_confirm_delivery(actor=consultant, order=order)
    assert order.state == S.DELIVERED and order.delivered_at
    assert Advice.objects.get(pk=advice.pk).delivered_at is not None
    svc.order_close(actor=manager, order=order, manager_rating=4)
    svc.order_rate_completeness(actor=consultant, order=order, rating="5")
    # then
    order = refresh(order)
    assert (order.state, order.manager_rating, order.consultant_rating) == (S.CLOSED, 4, 5)
    steps = list(
        TransitionLog.objects.filter(object_id=str(order.pk), workflow="consultation").values_list(
            "transition", flat=True
        )
    )
    assert steps == ["submit", "start_analysis", "submit_advice", "accept", "deliver", "close"]
    assert order.late_holder is None
    assert svc.order_sla_status(order, NOW + dt.timedelta(days=30)) == svc.SlaStatus.ON_TIME


def test_submit_assigns_least_loaded_consultant_unless_chosen(pipe):
    p = pipe
    other = UserFactory(username="consultant2", branch=p.w.b1, roles=["consultant"])
    busy = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=busy, consultant=p.consultant, now=NOW)
    # consultant1 has one open order, consultant2 none → load picks consultant2
    assert svc.order_submit(actor=p.w["manager1"], order=new_order(p), now=NOW).consultant == other
    # a consultant of another branch cannot be chosen
    b2c = UserFactory(username="b2consultant", branch=p.w.b2, roles=["consultant"])
    draft = new_order(p)
    with pytest.raises(DomainError):
        svc.order_submit(actor=p.w["manager1"], order=draft, consultant=b2c, now=NOW)
    assert refresh(draft).state == S.DRAFT


# --- refusals -------------------------------------------------------------------------------------------


def test_illegal_transitions_refused_with_nothing_changed(pipe):
    p = pipe
    order = new_order(p)
    before = TransitionLog.objects.count()
    with pytest.raises(DomainError):  # wrong state
        svc.order_accept(actor=p.w["manager1"], order=order)
    with pytest.raises(DomainError):  # not the order's manager
        svc.order_submit(actor=p.w["manager2"], order=order, now=NOW)
    with pytest.raises(DomainError):  # another branch's manager
        svc.order_submit(actor=p.w["b2manager1"], order=order, now=NOW)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    order = refresh(order)
    with pytest.raises(DomainError):  # the manager cannot take the consultant's step
        svc.order_start_analysis(actor=p.w["manager1"], order=order)
    with pytest.raises(DomainError):  # submitting advice without one
        svc.order_start_analysis(actor=p.consultant, order=order)
        svc.order_submit_advice(actor=p.consultant, order=refresh(order))
    order = refresh(order)
    assert order.state == S.IN_ANALYSIS
    with pytest.raises(DomainError):  # a return needs a reason (and the right state)
        svc.order_return_for_rework(actor=p.w["manager1"], order=order, note="")
    with pytest.raises(DomainError):  # cancel needs a reason
        svc.order_cancel(actor=p.w["manager1"], order=order, note=" ")
    after = refresh(order)
    assert after.state == S.IN_ANALYSIS and after.rework_count == 0
    # submit + start_analysis are the only two steps written
    assert TransitionLog.objects.count() == before + 2


def test_cancel_by_director_and_not_from_closed_states(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    order = svc.order_cancel(actor=p.w["director"], order=refresh(order), note="客户撤回需求")
    assert order.state == S.CANCELLED
    with pytest.raises(DomainError):
        svc.order_cancel(actor=p.w["manager1"], order=order, note="再次取消")
    delivered = to_delivered(p, new_order(p))
    with pytest.raises(DomainError):
        svc.order_cancel(actor=p.w["manager1"], order=delivered, note="取消")
    assert refresh(delivered).state == S.DELIVERED


def test_draft_holdings_editable_only_while_draft(pipe):
    p = pipe
    order = new_order(p)
    svc.order_holdings_update(
        actor=p.w["manager1"],
        order=order,
        holdings=[svc.HoldingInput(p.low.pk, 2000, Decimal("30"))],
        question="只问招商银行",
    )
    order = refresh(order)
    assert order.question == "只问招商银行" and order.holdings.get().quantity == 2000
    with pytest.raises(DomainError):
        svc.order_holdings_update(actor=p.w["manager2"], order=order, holdings=[])
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    with pytest.raises(DomainError):
        svc.order_holdings_update(actor=p.w["manager1"], order=order, holdings=[])
    assert refresh(order).holdings.count() == 1


def test_order_create_only_for_own_client(pipe):
    with pytest.raises(DomainError):
        svc.order_create(actor=pipe.w["manager1"], client=pipe.w.client_m2, question="?")
    assert not ConsultationOrder.objects.exists()


# --- rework ---------------------------------------------------------------------------------------------


def test_return_for_rework_counts_and_needs_a_new_version(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    first = write_advice(p, refresh(order))
    order = svc.order_return_for_rework(actor=p.w["manager1"], order=refresh(order), note="请补充估值依据")
    assert (order.state, order.rework_count) == (S.IN_ANALYSIS, 1)
    assert Advice.objects.get(pk=first.pk).returned_reason == "请补充估值依据"
    # the returned version cannot simply be sent again
    with pytest.raises(DomainError):
        svc.order_submit_advice(actor=p.consultant, order=order)
    second = write_advice(p, refresh(order))
    assert second.version == 2
    svc.order_return_for_rework(actor=p.w["director"], order=refresh(order), note="再补充")
    write_advice(p, refresh(order))
    assert refresh(order).rework_count == 2
    log = TransitionLog.objects.filter(object_id=str(order.pk), transition="return_for_rework").first()
    assert log.holder == p.consultant and log.note == "请补充估值依据"


# --- suitability ----------------------------------------------------------------------------------------


def test_suitability_blocks_buying_above_client_level(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    with pytest.raises(DomainError) as exc:
        write_advice(p, refresh(order), lines=lines(p, high="buy"))
    assert "688981 中芯国际" in exc.value.message and "C3" in exc.value.message
    assert not Advice.objects.exists()
    # selling or watching a risky security is fine; buying within the level passes
    advice = write_advice(p, refresh(order), lines=lines(p, high="watch", low="add"), submit=False)
    result = {line["security"]: line["result"] for line in advice.suitability["lines"]}
    assert result == {
        "600036 招商银行": "pass",
        "600519 贵州茅台": "not_applicable",
        "688981 中芯国际": "not_applicable",
    }
    assert advice.suitability["passed"] is True


def test_suitability_override_on_client_request_is_stored(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    advice = write_advice(p, refresh(order), lines=lines(p, high="buy"), client_request_ack=True)
    assert advice.client_request_ack is True
    line = next(x for x in advice.suitability["lines"] if x["security_id"] == p.high.pk)
    assert (line["rating"], line["client_level"], line["result"]) == ("R4", "C3", "acknowledged")
    assert advice.suitability["acknowledged"] is True
    assert refresh(order).state == S.ADVICE_READY


def test_advice_requires_every_holding_risk_warning_and_practice_no(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    with pytest.raises(DomainError):
        write_advice(p, refresh(order), lines=[svc.LineInput(p.low.pk, "hold", "持有")])
    with pytest.raises(DomainError):
        svc.advice_save(
            actor=p.consultant, order=refresh(order), overall="x", risk_warning="  ", lines=lines(p)
        )
    p.consultant.practice_no = ""
    p.consultant.save()
    with pytest.raises(DomainError):
        write_advice(p, refresh(order))
    assert not Advice.objects.exists()


# --- SLA ------------------------------------------------------------------------------------------------


def test_deadline_skips_lunch_break_and_evening(world):
    # 10:30 + 4 h: 1 h to 11:30, 2 h in the afternoon session, 1 h the next morning
    warn, due = svc.order_deadline(world.b1, NOW)
    assert due == at(26, 10, 30)
    assert warn == at(26, 9, 42)  # 80 % = 3 h 12 min


def test_deadline_over_a_weekend(world):
    warn, due = svc.order_deadline(world.b1, at(27, 14, 30))  # Friday afternoon
    assert due == at(30, 14, 30)  # 0.5 h Friday + 2 h + 1.5 h on Monday after the lunch break
    assert warn == at(30, 13, 42)


def test_deadline_from_the_lunch_break(world):
    # submitted during the lunch break: 13:00–15:00 (2 h), then 09:30–11:30 the next day (2 h)
    _warn, due = svc.order_deadline(world.b1, at(25, 12, 0))
    assert due == at(26, 11, 30)


def test_sla_status_on_time_warning_overdue(pipe):
    p = pipe
    order = svc.order_submit(actor=p.w["manager1"], order=new_order(p), now=NOW)
    assert svc.order_sla_status(order, NOW) == svc.SlaStatus.ON_TIME
    assert svc.order_sla_status(order, at(26, 9, 45)) == svc.SlaStatus.WARNING
    assert svc.order_sla_status(order, at(26, 10, 30)) == svc.SlaStatus.OVERDUE
    assert svc.order_sla_status(new_order(p), NOW) == svc.SlaStatus.NONE


def test_overdue_marking_attributes_late_holder_once(pipe, django_capture_on_commit_callbacks):
    p = pipe
    order = svc.order_submit(actor=p.w["manager1"], order=new_order(p), now=NOW)
    # consultant holds it past the deadline
    assert svc.orders_mark_overdue(now=at(26, 10, 0)) == 0
    assert svc.orders_mark_overdue(now=at(26, 11, 0)) == 1
    order = refresh(order)
    assert order.late_holder == p.consultant
    titles = Notification.objects.filter(title__contains="已逾期").values_list(
        "recipient__username", flat=True
    )
    assert sorted(titles) == ["consultant1", "director"]
    # idempotent: a second run notifies nobody again
    assert svc.orders_mark_overdue(now=at(26, 14, 0)) == 0
    assert Notification.objects.filter(title__contains="已逾期").count() == 2
    assert svc.order_sla_status(order, at(26, 11, 0)) == svc.SlaStatus.OVERDUE


def test_late_holder_is_the_manager_when_advice_waited_for_review(pipe):
    p = pipe
    order = svc.order_submit(actor=p.w["manager1"], order=new_order(p), now=NOW)
    write_advice(p, refresh(order), now=at(25, 14, 0))
    # the manager sits on the advice past the deadline; accepting late attributes it to them
    order = svc.order_accept(actor=p.w["manager1"], order=refresh(order), now=at(26, 13, 30))
    assert order.late_holder == p.w["manager1"]
    assert svc.order_sla_status(order, at(27, 9, 30)) == svc.SlaStatus.OVERDUE


def test_deadline_covers_delivery_not_only_acceptance(pipe):
    # given: advice written and accepted well within the deadline (due 26th 10:12)
    p = pipe
    m1 = p.w["manager1"]
    order = svc.order_submit(actor=m1, order=new_order(p), now=NOW)
    write_advice(p, refresh(order), now=at(25, 14, 0))
    order = svc.order_accept(actor=m1, order=refresh(order), now=at(25, 14, 30))
    # then: the clock still runs while the advice waits to be delivered
    assert order.state == S.ACCEPTED and order.late_holder is None
    assert svc.order_sla_status(order, at(26, 9, 50)) == svc.SlaStatus.WARNING
    assert svc.order_sla_status(order, at(26, 11, 0)) == svc.SlaStatus.OVERDUE
    # when: the periodic check passes the deadline before delivery: the manager held it
    assert svc.orders_mark_overdue(now=at(26, 11, 0)) == 1
    assert refresh(order).late_holder == m1
    order = svc.order_confirm_delivery(
        actor=m1, order=refresh(order), delivery_method="in_person", client_response="认可", now=at(26, 11, 5)
    )
    order = svc.order_confirm_delivery(actor=p.consultant, order=order, now=at(26, 11, 10))
    # then: delivered late stays overdue, the holder is kept
    assert order.state == S.DELIVERED and order.late_holder == m1
    assert svc.order_sla_status(order, at(27, 9, 30)) == svc.SlaStatus.OVERDUE


def test_delivered_in_time_is_on_time_and_late_delivery_is_attributed(pipe):
    p = pipe
    m1 = p.w["manager1"]
    on_time = svc.order_submit(actor=m1, order=new_order(p), now=NOW)
    write_advice(p, refresh(on_time), now=at(25, 14, 0))
    svc.order_accept(actor=m1, order=refresh(on_time), now=at(25, 14, 30))
    svc.order_confirm_delivery(
        actor=m1, order=refresh(on_time), delivery_method="phone", client_response="好", now=at(25, 15, 0)
    )
    on_time = svc.order_confirm_delivery(actor=p.consultant, order=refresh(on_time), now=at(26, 9, 0))
    assert on_time.late_holder is None
    assert svc.order_sla_status(on_time, at(28, 9, 0)) == svc.SlaStatus.ON_TIME

    # the manager confirmed in time, the consultant only after the deadline (no periodic check ran)
    late = svc.order_submit(actor=m1, order=new_order(p), now=NOW)
    write_advice(p, refresh(late), now=at(25, 14, 0))
    svc.order_accept(actor=m1, order=refresh(late), now=at(25, 14, 30))
    svc.order_confirm_delivery(
        actor=m1, order=refresh(late), delivery_method="phone", client_response="好", now=at(25, 15, 0)
    )
    late = svc.order_confirm_delivery(actor=p.consultant, order=refresh(late), now=at(26, 13, 30))
    assert late.state == S.DELIVERED and late.late_holder == p.consultant


# --- delivery, immutability, ratings --------------------------------------------------------------------


def test_joint_delivery_needs_both_and_each_once(pipe):
    p = pipe
    order = new_order(p)
    svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    write_advice(p, refresh(order))
    svc.order_accept(actor=p.w["manager1"], order=refresh(order))
    with pytest.raises(DomainError):  # the manager must record the method and response
        svc.order_confirm_delivery(
            actor=p.w["manager1"], order=refresh(order), delivery_method="", client_response=""
        )
    order = svc.order_confirm_delivery(actor=p.consultant, order=refresh(order))
    assert order.state == S.ACCEPTED and order.consultant_confirmed
    with pytest.raises(DomainError):
        svc.order_confirm_delivery(actor=p.consultant, order=refresh(order))
    with pytest.raises(DomainError):  # the director does not deliver in the manager's place
        svc.order_confirm_delivery(
            actor=p.w["director"], order=refresh(order), delivery_method="phone", client_response="x"
        )
    order = svc.order_confirm_delivery(
        actor=p.w["manager1"], order=refresh(order), delivery_method="phone", client_response="客户表示会考虑"
    )
    assert order.state == S.DELIVERED and order.delivery_method == "phone"


def test_delivered_advice_is_immutable_and_corrections_are_versions(pipe):
    p = pipe
    order = to_delivered(p, new_order(p))
    delivered = order.advices.get()
    with pytest.raises(DomainError):
        write_advice(p, order)
    with pytest.raises(DomainError):
        svc.advice_update(actor=p.consultant, advice=delivered, overall="改")
    correction = svc.advice_correct(
        actor=p.consultant,
        order=order,
        overall="更正：减仓比例应为三分之一。",
        risk_warning=svc.RISK_WARNING_DEFAULT,
        lines=lines(p),
        reason="减仓比例笔误",
    )
    assert (correction.version, correction.replaces_id) == (2, delivered.pk)
    unchanged = Advice.objects.get(pk=delivered.pk)
    assert unchanged.overall == delivered.overall and unchanged.delivered_at == delivered.delivered_at
    with pytest.raises(DomainError):  # a correction also passes the suitability check
        svc.advice_correct(
            actor=p.consultant, order=order, overall="x", risk_warning="y",
            lines=lines(p, high="buy"), reason="加仓",
        )  # fmt: skip
    with pytest.raises(DomainError):  # correcting needs delivered advice
        other = new_order(p)
        svc.advice_correct(
            actor=p.consultant, order=other, overall="x", risk_warning="y", lines=lines(p), reason="r"
        )


def test_ratings_are_mutual_and_bounded(pipe):
    p = pipe
    order = to_delivered(p, new_order(p))
    with pytest.raises(DomainError):
        svc.order_close(actor=p.w["manager1"], order=order, manager_rating=6)
    with pytest.raises(DomainError):
        svc.order_close(actor=p.consultant, order=order, manager_rating=3)
    with pytest.raises(DomainError):
        svc.order_rate_completeness(actor=p.w["manager1"], order=order, rating=3)
    assert refresh(order).state == S.DELIVERED
    svc.order_rate_completeness(actor=p.consultant, order=order, rating=3)
    with pytest.raises(DomainError):
        svc.order_rate_completeness(actor=p.consultant, order=order, rating=4)
    svc.order_close(actor=p.w["manager1"], order=refresh(order), manager_rating=5)
    order = refresh(order)
    assert (order.manager_rating, order.consultant_rating) == (5, 3)


def test_actions_offered_per_role(pipe):
    p = pipe
    order = new_order(p)
    assert svc.order_actions(order, p.w["manager1"]) == ["submit", "cancel"]
    assert svc.order_actions(order, p.consultant) == []
    order = svc.order_submit(actor=p.w["manager1"], order=order, now=NOW)
    assert svc.order_actions(order, p.consultant) == ["start_analysis"]
    assert svc.order_actions(order, p.w["director"]) == ["cancel"]
    assert svc.order_actions(order, p.w["compliance1"]) == []


def test_history_shows_holder_and_time_held(pipe):
    p = pipe
    order = svc.order_submit(actor=p.w["manager1"], order=new_order(p), now=NOW)
    svc.order_start_analysis(actor=p.consultant, order=order, now=NOW + dt.timedelta(minutes=30))
    rows = svc.order_history(refresh(order), now=NOW + dt.timedelta(hours=1))
    assert [r.entry.holder for r in rows] == [p.consultant, p.consultant]
    assert rows[0].held == dt.timedelta(minutes=30)
    assert rows[1].held_working == dt.timedelta(minutes=30)


# --- the letter -----------------------------------------------------------------------------------------


def test_advice_letter_embeds_a_truetype_cjk_font_with_extractable_text(pipe):
    import os

    from branchcare.onsite.pdf_consultations import FONT_CANDIDATES

    p = pipe
    order = to_delivered(p, new_order(p))
    pdf = advice_letter_pdf(order=order, advice=order.advices.get())
    if any(os.path.exists(path) for path, _i in FONT_CANDIDATES):
        # embedded TrueType program (what pdffonts shows as "emb yes"), not the STSong-Light fallback
        assert b"/FontFile2" in pdf and b"STSong-Light" not in pdf
        assert b"/ToUnicode" in pdf
        assert set("风险提示张三投资建议书") <= _pdf_unicode_chars(pdf)
    else:  # no TrueType CJK font on this machine: the not-embedded fallback (a warning is logged)
        assert b"STSong-Light" in pdf
    try:
        import pypdf  # optional: extract the text the way a reader would
    except ImportError:
        return
    import io

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "风险提示" in text and "张三" in text


def test_advice_letter_pdf(pipe, tmp_path):
    p = pipe
    order = to_delivered(p, new_order(p))
    pdf = advice_letter_pdf(order=order, advice=order.advices.get())
    assert pdf.startswith(b"%PDF")
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        path = tmp_path / "letter.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "风险提示" in text and "A0120612345678" in text and "张三" in text


def test_letter_font_falls_back_to_stsong_with_a_warning(monkeypatch, caplog):
    from branchcare.onsite import pdf_consultations as letter

    monkeypatch.setattr(letter, "FONT_CANDIDATES", (("/nonexistent/cjk.ttc", 0),))
    letter.cjk_font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger=letter.__name__):
            assert letter.cjk_font() == "STSong-Light"
        assert "fonts-wqy-zenhei" in caplog.text
    finally:
        letter.cjk_font.cache_clear()
