"""Compliance checks (合规检查) and the one-client service history export.

A :class:`Check` is a queryset of the offending records in the viewer's branches plus how to show one;
the page shows each check's count and list. Checks on apps that do not exist yet (ImportError, or
LookupError from ``apps.get_model``) are simply omitted, so the list grows as the subsystems land.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from branchcare.clients.models import Client
from branchcare.clients.selectors import client_base_qs
from branchcare.core import timeline
from branchcare.core.audit import audit_log
from branchcare.core.masking import mask_id_number, mask_phone, mask_text
from branchcare.core.models import AuditLog
from branchcare.org.capabilities import Cap
from branchcare.org.models import User

from .measures import TZ, DrillRow

logger = logging.getLogger(__name__)

# How long service records are kept (years) and how far ahead of the limit a record is flagged (days).
RETENTION_YEARS = int(getattr(settings, "BRANCHCARE", {}).get("SERVICE_RECORD_RETENTION_YEARS", 20))
RETENTION_WARN_DAYS = 90


@dataclass(frozen=True)
class Check:
    code: str
    label: Any
    rule: Any  # what the check means, shown under the title
    must_be_zero: bool
    query: Callable[[Sequence[int], dt.datetime], QuerySet]  # (branch ids, now) -> offending records
    describe: Callable[[Any], DrillRow]


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _describe_advice(a: Any) -> DrillRow:
    o = a.order
    return DrillRow(
        at=timezone.localtime(a.delivered_at) if a.delivered_at else None,
        title=f"咨询单 #{o.pk} 第 {a.version} 版 · {o.client}",
        detail=(a.overall or "")[:80],
        person=str(a.consultant),
        url=_url("onsite:consultation_detail", o.pk),
    )


def _onsite_checks() -> Iterator[Check]:
    Advice = apps.get_model("onsite", "Advice")

    def delivered(branch_ids: Sequence[int]) -> QuerySet:
        return (
            Advice.objects.filter(order__branch_id__in=list(branch_ids), delivered_at__isnull=False)
            .select_related("order__client", "consultant")
            .order_by("-delivered_at")
        )

    yield Check(
        code="advice_no_suitability",
        label=_("已交付投顾意见缺少适当性检查记录"),
        rule=_("每份交付给客户的投顾意见都必须存有适当性检查结果，本项必须为 0。"),
        must_be_zero=True,
        query=lambda ids, now: delivered(ids).filter(
            Q(suitability__isnull=True) | ~Q(suitability__has_key="passed")
        ),
        describe=_describe_advice,
    )
    yield Check(
        code="advice_suitability_blocked",
        label=_("已交付投顾意见适当性检查未通过"),
        rule=_("适当性检查结果为“未通过”却已交付的意见，本项必须为 0。"),
        must_be_zero=True,
        query=lambda ids, now: delivered(ids).filter(suitability__passed=False),
        describe=_describe_advice,
    )
    yield Check(
        code="advice_no_risk_warning",
        label=_("已交付投顾意见缺少风险提示"),
        rule=_("投顾意见必须附风险提示。"),
        must_be_zero=True,
        query=lambda ids, now: delivered(ids).filter(Q(risk_warning="") | Q(risk_warning__isnull=True)),
        describe=_describe_advice,
    )
    # Advice cites research once the research app links them (a relation from Advice to a research item).
    citation = next(
        (
            f
            for f in Advice._meta.get_fields()
            if getattr(f, "related_model", None) is not None and f.related_model._meta.app_label == "research"
        ),
        None,
    )
    if citation is not None:
        yield Check(
            code="advice_no_research_source",
            label=_("已交付投顾意见未注明研究来源"),
            rule=_("投顾意见应引用研究成果作为依据。"),
            must_be_zero=False,
            query=lambda ids, now: delivered(ids).filter(**{f"{citation.name}__isnull": True}).distinct(),
            describe=_describe_advice,
        )
    ConsultationOrder = apps.get_model("onsite", "ConsultationOrder")
    limit_years = RETENTION_YEARS

    def retention(ids: Sequence[int], now: dt.datetime) -> QuerySet:
        warn_from = now - dt.timedelta(days=365 * limit_years + 5) + dt.timedelta(days=RETENTION_WARN_DAYS)
        return (
            ConsultationOrder.objects.filter(branch_id__in=list(ids), created_at__lt=warn_from)
            .select_related("client", "manager", "consultant")
            .order_by("created_at")
        )

    yield Check(
        code="records_near_retention",
        label=_("即将到达保存期限的服务记录"),
        rule=_("咨询单及投顾意见保存 %(y)s 年；到期前 %(d)s 天列出，供归档或延长保存。")
        % {"y": limit_years, "d": RETENTION_WARN_DAYS},
        must_be_zero=False,
        query=retention,
        describe=lambda o: DrillRow(
            at=timezone.localtime(o.created_at),
            title=f"咨询单 #{o.pk} · {o.client}",
            person=str(o.manager),
            url=_url("onsite:consultation_detail", o.pk),
        ),
    )


def _research_checks() -> Iterator[Check]:
    """Research delivered from a source not licensed on the delivery day (``ResearchSource.is_valid_on``
    expressed as a query: inactive; or external without a licence number, without a contract period, or
    delivered outside it)."""
    Delivery = apps.get_model("research", "ResearchDelivery")
    Source = apps.get_model("research", "ResearchSource")
    external = Source.Kind.EXTERNAL
    src = "item__source__"

    def query(ids: Sequence[int], now: dt.datetime) -> QuerySet:
        day = F("_day")
        invalid = Q(**{f"{src}active": False}) | (
            Q(**{f"{src}kind": external})
            & (
                Q(**{f"{src}licence_no": ""})
                | Q(**{f"{src}contract_start__isnull": True, f"{src}contract_end__isnull": True})
                | Q(**{f"{src}contract_start__gt": day})
                | Q(**{f"{src}contract_end__lt": day})
            )
        )
        return (
            Delivery.objects.filter(branch_id__in=list(ids), delivered_at__isnull=False)
            .annotate(_day=TruncDate("delivered_at", tzinfo=TZ))
            .filter(invalid)
            .select_related("item__source", "client", "delivered_by")
            .order_by("-delivered_at")
        )

    def describe(d: Any) -> DrillRow:
        return DrillRow(
            at=timezone.localtime(d.delivered_at),
            title=f"{d.item.title} → {d.client}",
            detail=f"{d.item.source}：{d.item.source.invalid_reason(timezone.localtime(d.delivered_at).date())}",
            person=str(d.delivered_by or "—"),
            status=d.get_channel_display(),
        )

    yield Check(
        code="research_unlicensed_source",
        label=_("来自未授权（或授权已过期）来源的研究成果推送"),
        rule=_("推送给客户的研究成果，其来源在推送当日必须处于有效授权期内，本项必须为 0。"),
        must_be_zero=True,
        query=query,
        describe=describe,
    )


def _offsite_checks() -> Iterator[Check]:
    """Complaints past their deadline, return-visit rules met per rule kind, inquiry records near their
    retention limit."""
    Inquiry = apps.get_model("offsite", "Inquiry")
    ReturnVisit = apps.get_model("offsite", "ReturnVisit")
    Rule = apps.get_model("offsite", "ReturnVisitRule")
    open_states = [Inquiry.State.NEW, Inquiry.State.ASSIGNED, Inquiry.State.IN_PROGRESS]

    def describe_inquiry(i: Any) -> DrillRow:
        due = i.regulatory_due or i.resolution_due
        return DrillRow(
            at=timezone.localtime(due) if due else None,
            title=f"{i.get_kind_display()} #{i.pk} · {i.subject}",
            detail=i.party_name,
            person=str(i.assignee or "—"),
            status=i.get_state_display(),
            url=_url("offsite:inquiry_detail", i.pk),
        )

    yield Check(
        code="complaints_past_deadline",
        label=_("超过办结期限仍未办结的投诉"),
        rule=_("投诉必须在办结期限（及监管答复期限）内办结，本项必须为 0。"),
        must_be_zero=True,
        query=lambda ids, now: (
            Inquiry.objects.filter(
                branch_id__in=list(ids), kind=Inquiry.Kind.COMPLAINT, state__in=open_states
            )
            .filter(Q(resolution_due__lt=now) | Q(regulatory_due__lt=now))
            .select_related("client", "assignee")
            .order_by("resolution_due", "pk")
        ),
        describe=describe_inquiry,
    )

    def describe_visit(v: Any) -> DrillRow:
        return DrillRow(
            at=v.due_on,
            title=f"{v.rule} · {v.client}",
            person=str(v.assignee or "—"),
            status=v.get_state_display(),
            url=_url("offsite:revisit_detail", v.pk),
        )

    for kind, label in Rule.Kind.choices:

        def missed(ids: Sequence[int], now: dt.datetime, kind: str = kind) -> QuerySet:
            today = now.astimezone(TZ).date()
            return (
                ReturnVisit.objects.filter(branch_id__in=list(ids), rule__kind=kind)
                .annotate(_done_day=TruncDate("completed_at", tzinfo=TZ))
                .filter(
                    Q(state=ReturnVisit.State.OPEN, due_on__lt=today)
                    | Q(state=ReturnVisit.State.DONE, _done_day__gt=F("due_on"))
                )
                .select_related("client", "assignee", "rule")
                .order_by("due_on", "pk")
            )

        yield Check(
            code=f"return_visit_{kind}",
            label=_("回访规则“%(r)s”未按期完成") % {"r": label},
            rule=_("按该规则生成的回访任务须在期限内完成；列出逾期未完成或超期完成的任务。"),
            must_be_zero=False,
            query=missed,
            describe=describe_visit,
        )

    yield Check(
        code="inquiries_near_retention",
        label=_("即将到达保存期限的咨询投诉记录"),
        rule=_("保存期限在 %(d)s 天内届满的咨询与投诉记录，供归档或延长保存。") % {"d": RETENTION_WARN_DAYS},
        must_be_zero=False,
        query=lambda ids, now: (
            Inquiry.objects.filter(
                branch_id__in=list(ids),
                retention_until__isnull=False,
                retention_until__lte=now.astimezone(TZ).date() + dt.timedelta(days=RETENTION_WARN_DAYS),
            )
            .select_related("client", "assignee")
            .order_by("retention_until", "pk")
        ),
        describe=describe_inquiry,
    )


def checks() -> list[Check]:
    """Every check whose source app exists."""
    out: list[Check] = []
    for provider in (_onsite_checks, _research_checks, _offsite_checks):
        try:
            out.extend(provider())
        except (ImportError, LookupError, AttributeError) as exc:
            logger.debug("compliance checks of %s omitted: %s", provider.__name__, exc)
    return out


def check_get(code: str) -> Check:
    for c in checks():
        if c.code == code:
            return c
    raise Http404


# --- one client's complete service history -------------------------------------------------------------------

EPOCH = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


KIND_LABELS = {
    "visit": _("拜访"),
    "patrol": _("巡视"),
    "consultation": _("咨询单"),
    "advice": _("投顾意见"),
    "advice_text": _("投顾意见全文"),
    "meeting": _("交流会"),
    "audit": _("资料变更"),
    "followup": _("跟进事项"),
    "call": _("通话"),
    "inquiry": _("咨询/投诉"),
    "complaint": _("投诉"),
    "return_visit": _("回访"),
    "delivery": _("研究推送"),
    "premium": _("高端服务"),
    "prospect": _("潜客开发"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@dataclass
class HistoryLine:
    at: dt.datetime | None
    kind: str
    title: str
    detail: str
    actor: str


@dataclass
class ClientHistory:
    client: Client
    phone: str
    id_number: str
    lines: list[HistoryLine]
    audit: list[HistoryLine]
    generated_at: dt.datetime
    viewer: User


def client_for_history(*, viewer: User, pk: Any) -> Client:
    """The client, through the viewer's compliance scope (404 outside it)."""
    qs = client_base_qs(viewer=viewer, capability=Cap.COMPLIANCE_REVIEW).select_related("branch", "manager")
    try:
        found = qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404
    return found


def client_history(*, viewer: User, client: Client, now: dt.datetime | None = None) -> ClientHistory:
    """Every timeline event of the client for all time (all registered providers), the advice delivered
    and the audit trail of the client and their consultation orders. Personal data masked unless the
    viewer holds Cap.PERSONAL_DATA_VIEW."""
    now = now or timezone.now()
    reveal = viewer.has_cap(Cap.PERSONAL_DATA_VIEW)

    def clean(text: str) -> str:
        return text if reveal else mask_text(text)

    events = timeline.events_for_client(client=client, viewer=viewer, start=EPOCH, end=now, limit=100_000)
    lines = [
        HistoryLine(
            timezone.localtime(e.at), kind_label(e.kind), clean(str(e.title)), clean(str(e.detail)), e.actor
        )
        for e in events
    ]
    try:
        Advice = apps.get_model("onsite", "Advice")
        for a in (
            Advice.objects.filter(order__client=client, delivered_at__isnull=False)
            .select_related("consultant")
            .order_by("-delivered_at")
        ):
            s = a.suitability or {}
            verdict = _g("通过") if s.get("passed") else (_g("未通过") if s else _g("无记录"))
            lines.append(
                HistoryLine(
                    timezone.localtime(a.delivered_at),
                    kind_label("advice_text"),
                    _g("投顾意见全文（咨询单 #%(pk)s 第 %(v)s 版）") % {"pk": a.order_id, "v": a.version},
                    clean(f"{a.overall}\n{_g('风险提示')}：{a.risk_warning}\n{_g('适当性检查')}：{verdict}"),
                    str(a.consultant),
                )
            )
        order_ids = [
            str(pk)
            for pk in apps.get_model("onsite", "ConsultationOrder")
            .objects.filter(client=client)
            .values_list("pk", flat=True)
        ]
    except LookupError:
        order_ids = []
    lines.sort(key=lambda h: h.at or EPOCH, reverse=True)
    audit_q = Q(object_type="clients.client", object_id=str(client.pk))
    if order_ids:
        audit_q |= Q(object_type="onsite.consultationorder", object_id__in=order_ids)
    audit = [
        HistoryLine(
            timezone.localtime(r.created_at),
            r.action,
            r.object_repr,
            clean(_changes_text(r.changes)),
            r.actor_username,
        )
        for r in AuditLog.objects.filter(audit_q).order_by("-created_at", "-id")[:20_000]
    ]
    return ClientHistory(
        client=client,
        phone=client.phone if reveal else mask_phone(client.phone),
        id_number=client.id_number if reveal else mask_id_number(client.id_number),
        lines=lines,
        audit=audit,
        generated_at=now,
        viewer=viewer,
    )


def _changes_text(changes: Any) -> str:
    if not changes:
        return ""
    if isinstance(changes, dict):
        return "；".join(f"{k}: {v}" for k, v in changes.items())[:500]
    return str(changes)[:500]


@transaction.atomic
def history_export_audit(*, viewer: User, client: Client, fmt: str, lines: int) -> None:
    """Record that ``viewer`` viewed (``fmt="view"``) or exported ``client``'s complete history (it is
    personal data, shown unmasked to holders of Cap.PERSONAL_DATA_VIEW)."""
    audit_log(
        actor=viewer,
        action="supervision.client_history_view" if fmt == "view" else "supervision.client_history_export",
        obj=client,
        changes={"format": fmt, "lines": lines},
    )
