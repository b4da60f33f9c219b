"""Writes of the research platform: sources, items and their review workflow, attachments, the
suitability check, deliveries to clients and pushes to an audience.

Every function is atomic and audited. Business refusals raise :class:`DomainError` with a Chinese
message; nothing is written when one is raised.

Events (``core.events``), published inside the writing transaction:

- ``research.published``: ``item_id``, ``actor`` — an item passed compliance review;
- ``research.delivered``: ``delivery_id``, ``item_id``, ``client_id``, ``channel``, ``actor`` — a
  delivery was recorded for a client.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.models import Client, Security
from branchcare.core import events
from branchcare.core import notify as core_notify
from branchcare.core.audit import audit_log, diff, snapshot
from branchcare.core.errors import DomainError
from branchcare.core.masking import mask_text
from branchcare.core.workflow import transition
from branchcare.org.capabilities import Cap

from . import selectors
from .attachments import check_upload
from .models import ResearchAttachment, ResearchDelivery, ResearchItem, ResearchPush, ResearchSource
from .workflows import RESEARCH

S = ResearchItem.State
D = ResearchDelivery
EXTERNAL_CHANNELS = (D.Channel.EMAIL, D.Channel.WECOM, D.Channel.SMS)
PUSH_CHANNELS = (*EXTERNAL_CHANNELS, D.Channel.IN_PERSON)
SOURCE_FIELDS = ["branch", "kind", "name", "licence_no", "contract_start", "contract_end", "active", "notes"]
ITEM_FIELDS = [
    "source", "kind", "title", "summary", "body", "risk_rating", "industries", "security", "direction",
    "target_price", "stop_loss", "horizon_days", "reason", "expires_on",
]  # fmt: skip


def _check_version(obj: Any, version: int | None) -> None:
    if version is not None and int(version) != obj.version:
        raise DomainError(_("该记录已被他人修改，请刷新后重试。"), field="version", code="conflict")


# --- sources -----------------------------------------------------------------------------------------------


def _clean_source(data: dict[str, Any]) -> None:
    if data.get("kind") not in ResearchSource.Kind.values:
        raise DomainError(_("来源类别无效。"), field="kind")
    if not (data.get("name") or "").strip():
        raise DomainError(_("请填写来源名称。"), field="name")
    start, end = data.get("contract_start"), data.get("contract_end")
    if start and end and end < start:
        raise DomainError(_("合同结束日期不能早于开始日期。"), field="contract_end")
    # An external source without licence or contract may be recorded; is_valid_on keeps its research
    # away from clients until the licence and contract are registered.


@transaction.atomic
def source_create(*, actor: Any, data: dict[str, Any]) -> ResearchSource:
    """Register a research source. Researchers and directors create sources of their own branch;
    ``branch`` None (company-wide) only for company-scope configurators."""
    if not selectors.can_edit_sources(actor):
        raise DomainError(_("您没有维护研究来源的权限。"), code="forbidden")
    _clean_source(data)
    source = ResearchSource(**{k: v for k, v in data.items() if k in SOURCE_FIELDS})
    if source.branch_id is None and source.kind == ResearchSource.Kind.OWN:
        source.branch_id = actor.branch_id
    if source.branch_id not in (None, actor.branch_id) and actor.scope_for(Cap.ORG_CONFIGURE) != "company":
        raise DomainError(_("只能为本营业部登记研究来源。"), field="branch")
    source.save()
    audit_log(
        actor=actor, action="research.source.create", obj=source, changes=snapshot(source, SOURCE_FIELDS)
    )
    return source


@transaction.atomic
def source_update(
    *, actor: Any, source: ResearchSource, data: dict[str, Any], version: int | None = None
) -> ResearchSource:
    """Edit a source (optimistic locking on ``version``)."""
    if not selectors.can_edit_sources(actor):
        raise DomainError(_("您没有维护研究来源的权限。"), code="forbidden")
    locked = ResearchSource.objects.select_for_update().get(pk=source.pk)
    _check_version(locked, version)
    merged = {**snapshot(locked, SOURCE_FIELDS), **data}
    merged.pop("branch", None)
    _clean_source(merged)
    before = snapshot(locked, SOURCE_FIELDS)
    for key, value in data.items():
        if key in SOURCE_FIELDS and key != "branch":
            setattr(locked, key, value)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    audit_log(
        actor=actor,
        action="research.source.update",
        obj=locked,
        changes=diff(before, snapshot(locked, SOURCE_FIELDS)),
    )
    return locked


# --- items -------------------------------------------------------------------------------------------------


def _industries(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("、", ",").split(",")
    out = []
    for v in value or []:
        v = str(v).replace("|", "").strip()[:30]
        if v and v not in out:
            out.append(v)
    return out[:15]


def _derive(item: ResearchItem, securities: list[Security]) -> None:
    """Fields computed from others: publisher and branch from the source, the industries of the
    securities; ``ResearchItem.save`` turns them into the industry tags and search tokens."""
    item.publisher = item.source.name[:100]
    item.branch_id = item.source.branch_id
    industries = list(item.industries)
    for sec in [item.security, *securities]:
        if sec is not None and sec.industry and sec.industry not in industries:
            industries.append(sec.industry)
    item.industries = industries[:15]
    item._extra_search = " ".join(f"{s.code} {s.name}" for s in securities)  # type: ignore[attr-defined]


def _clean_item(item: ResearchItem) -> None:
    if item.kind not in ResearchItem.Kind.values:
        raise DomainError(_("类别无效。"), field="kind")
    if item.risk_rating not in selectors.RISK_RANK:
        raise DomainError(_("风险等级须为 R1–R5。"), field="risk_rating")
    if item.direction and item.direction not in ResearchItem.Direction.values:
        raise DomainError(_("方向无效。"), field="direction")
    if not item.title.strip():
        raise DomainError(_("请填写标题。"), field="title")
    if item.kind == ResearchItem.Kind.RECOMMENDATION:
        if item.security_id is None:
            raise DomainError(_("个股推荐必须选择推荐证券。"), field="security")
        if not item.direction:
            raise DomainError(_("个股推荐必须选择方向（买入/增持/持有/减持/卖出）。"), field="direction")
        if not item.reason.strip():
            raise DomainError(_("个股推荐必须填写推荐理由。"), field="reason")
        for name in ("target_price", "stop_loss"):
            value = getattr(item, name)
            if value is not None and Decimal(value) <= 0:
                raise DomainError(_("价格必须大于 0。"), field=name)
        if (
            item.target_price is not None
            and item.stop_loss is not None
            and item.direction in (ResearchItem.Direction.BUY, ResearchItem.Direction.ADD)
            and item.stop_loss >= item.target_price
        ):
            raise DomainError(_("买入/增持推荐的止损价应低于目标价。"), field="stop_loss")
    else:
        item.security = None
        item.direction = ""
        item.target_price = item.stop_loss = None
        item.horizon_days = None


def _check_source(actor: Any, source: ResearchSource | None) -> ResearchSource:
    if source is None:
        raise DomainError(_("请选择研究来源。"), field="source")
    if not selectors.writable_sources(viewer=actor).filter(pk=source.pk).exists():
        raise DomainError(_("不能以该研究来源发布（已停用或不在您的范围内）。"), field="source")
    return source


@transaction.atomic
def item_create(
    *, actor: Any, data: dict[str, Any], securities: list[Security] | None = None
) -> ResearchItem:
    """A researcher writes a new item (state draft); ``author`` is the actor."""
    if not actor.has_cap(Cap.RESEARCH_WRITE):
        raise DomainError(_("您没有撰写研究成果的权限。"), code="forbidden")
    fields = {k: v for k, v in data.items() if k in ITEM_FIELDS}
    fields["industries"] = _industries(fields.get("industries"))
    item = ResearchItem(**fields, author=actor, created_by=actor, state=S.DRAFT)
    _check_source(actor, item.source if item.source_id else None)
    _clean_item(item)
    secs = list(securities or [])
    _derive(item, secs)
    item.save()
    item.securities.set(secs)
    audit_log(
        actor=actor,
        action="research.item.create",
        obj=item,
        changes=snapshot(item, ["title", "kind", "source", "risk_rating"]),
    )
    return item


@transaction.atomic
def item_update(
    *,
    actor: Any,
    item: ResearchItem,
    data: dict[str, Any],
    securities: list[Security] | None = None,
    version: int | None = None,
) -> ResearchItem:
    """Edit a draft (optimistic locking on ``version``). Only drafts can be edited."""
    if not actor.has_cap(Cap.RESEARCH_WRITE):
        raise DomainError(_("您没有撰写研究成果的权限。"), code="forbidden")
    locked = ResearchItem.objects.select_for_update(of=("self",)).select_related("source").get(pk=item.pk)
    _check_version(locked, version)
    if locked.state != S.DRAFT:
        raise DomainError(
            _("只有草稿可以修改；当前状态为“%(s)s”。") % {"s": locked.get_state_display()},
            code="invalid_state",
        )
    before = snapshot(locked, ITEM_FIELDS)
    for key, value in data.items():
        if key in ITEM_FIELDS:
            setattr(locked, key, _industries(value) if key == "industries" else value)
    if "source" in data:
        _check_source(actor, locked.source)
    _clean_item(locked)
    secs = list(securities) if securities is not None else list(locked.securities.all())
    _derive(locked, secs)
    locked.version += 1
    locked.save()
    if securities is not None:
        locked.securities.set(secs)
    audit_log(
        actor=actor,
        action="research.item.update",
        obj=locked,
        changes=diff(before, snapshot(locked, ITEM_FIELDS)),
    )
    return locked


def item_submit(*, actor: Any, item: ResearchItem) -> ResearchItem:
    """Send a draft to compliance review."""
    return transition(
        workflow=RESEARCH, obj=item, name="submit", actor=actor, changes={"submitted_at": timezone.now()}
    )  # type: ignore[return-value]


@transaction.atomic
def item_review(*, actor: Any, item: ResearchItem, decision: str, comment: str = "") -> ResearchItem:
    """Compliance decision on an item in review: ``approve`` publishes it (publish date, publisher and,
    for recommendations with a horizon, the expiry date are set); ``reject`` returns it to draft and
    needs a comment. The decision and comment are recorded on the item and in the transition log."""
    if decision not in ("approve", "reject"):
        raise DomainError(_("请选择审核结论（通过或退回）。"), field="decision")
    now = timezone.now()
    changes: dict[str, Any] = {
        "reviewed_by": actor,
        "reviewed_at": now,
        "review_decision": decision,
        "review_comment": comment.strip()[:4000],
    }
    if decision == "approve":
        today = timezone.localdate(now)
        changes.update(published_on=today, published_at=now, publisher=item.source.name[:100])
        if item.expires_on is None and item.horizon_days:
            changes["expires_on"] = today + dt.timedelta(days=int(item.horizon_days))
        if item.expires_on is not None and item.expires_on < today:
            raise DomainError(_("有效期已过，请退回研究员修改有效期。"), field="expires_on")
    done = transition(workflow=RESEARCH, obj=item, name=decision, actor=actor, note=comment, changes=changes)
    if decision == "approve":
        events.publish("research.published", item_id=done.pk, actor=actor)
    return done  # type: ignore[return-value]


def item_withdraw(*, actor: Any, item: ResearchItem, reason: str) -> ResearchItem:
    """Withdraw a published item (reason required); it is no longer offered or delivered."""
    return transition(
        workflow=RESEARCH,
        obj=item,
        name="withdraw",
        actor=actor,
        note=reason,
        changes={"withdrawn_reason": reason.strip()[:4000]},
    )  # type: ignore[return-value]


class SystemActor:
    """The actor of scheduled jobs (no user)."""

    pk = None
    username = "system"
    is_authenticated = False

    def has_cap(self, capability: str) -> bool:
        return False


def expire_due(*, today: dt.date | None = None) -> int:
    """Move published items past their ``expires_on`` to *expired*; returns how many."""
    today = today or timezone.localdate()
    ids = list(
        ResearchItem.objects.filter(state=S.PUBLISHED, expires_on__lt=today).values_list("pk", flat=True)[
            :1000
        ]
    )
    actor = SystemActor()
    done = 0
    for pk in ids:
        item = ResearchItem.objects.get(pk=pk)
        try:
            transition(workflow=RESEARCH, obj=item, name="expire", actor=actor, note=_("已过有效期"))
            done += 1
        except DomainError:
            continue
    return done


# --- attachments -------------------------------------------------------------------------------------------


@transaction.atomic
def attachment_add(*, actor: Any, item: ResearchItem, upload: Any) -> ResearchAttachment:
    """Attach a PDF/Office file to a draft (type by magic bytes, size limit)."""
    if not actor.has_cap(Cap.RESEARCH_WRITE):
        raise DomainError(_("您没有撰写研究成果的权限。"), code="forbidden")
    if item.state != S.DRAFT:
        raise DomainError(_("只有草稿可以添加附件。"), code="invalid_state")
    content_type = check_upload(upload)
    original = os.path.basename(upload.name)[:200]
    att = ResearchAttachment(
        item=item, original_name=original, size=upload.size, content_type=content_type, uploaded_by=actor
    )
    ext = original.rsplit(".", 1)[-1].lower()
    att.file.save(f"{timezone.now():%H%M%S%f}.{ext}", upload, save=False)
    att.save()
    audit_log(
        actor=actor,
        action="research.attachment.add",
        obj=item,
        changes={"attachment": [None, original], "size": [None, upload.size]},
    )
    return att


@transaction.atomic
def attachment_delete(*, actor: Any, attachment: ResearchAttachment) -> None:
    if not actor.has_cap(Cap.RESEARCH_WRITE):
        raise DomainError(_("您没有撰写研究成果的权限。"), code="forbidden")
    if attachment.item.state != S.DRAFT:
        raise DomainError(_("只有草稿可以删除附件。"), code="invalid_state")
    audit_log(actor=actor, action="research.attachment.delete", obj=attachment.item,
              changes={"attachment": [attachment.original_name, None]})  # fmt: skip
    attachment.file.delete(save=False)
    attachment.delete()


# --- suitability and deliveries ----------------------------------------------------------------------------


def suitability_check(*, item: ResearchItem, client: Client, today: dt.date | None = None) -> dict[str, Any]:
    """Whether ``item`` may go to ``client`` (no queries beyond the loaded source).

    Returns ``{"ok", "excluded", "reason", "warning", "item_risk", "client_risk", "source_valid",
    "checked_on"}``; ``reason`` explains an exclusion in Chinese: the source is not valid (Art. 17), the
    item is not published, or its risk rating is above the client's level (no risk level → C1);
    ``warning`` notes an expired risk assessment (the recorded level still applies)."""
    today = today or timezone.localdate()
    reasons: list[str] = []
    source_valid = item.source.is_valid_on(today)
    if not source_valid:
        reasons.append(item.source.invalid_reason(today) + _("（证券投资顾问业务暂行规定第十七条）"))
    if item.state != S.PUBLISHED or (item.expires_on and item.expires_on < today):
        reasons.append(_("研究成果未发布或已失效"))
    max_rank = selectors.client_max_risk(client)
    item_rank = selectors.RISK_RANK.get(item.risk_rating, 5)
    if item_rank > max_rank:
        if not client.risk_level:
            reasons.append(
                _("客户未做风险测评，只能接收 R1 级研究（本研究为 %(r)s）") % {"r": item.risk_rating}
            )
        else:
            reasons.append(
                _("研究风险等级 %(r)s 高于客户风险承受能力 %(c)s")
                % {"r": item.risk_rating, "c": client.risk_level}
            )
    warning = ""
    if client.risk_level and client.risk_assessment_expired:
        warning = _("客户风险测评已过期，请提醒客户重新测评")
    return {
        "ok": not reasons,
        "excluded": bool(reasons),
        "reason": "；".join(reasons),
        "warning": warning,
        "item_risk": item.risk_rating,
        "client_risk": client.risk_level or "",
        "source_valid": source_valid,
        "checked_on": today.isoformat(),
    }


@transaction.atomic
def delivery_record(
    *,
    actor: Any,
    item: ResearchItem,
    client: Client,
    channel: str,
    note: str = "",
    push: ResearchPush | None = None,
    allow_unsuitable: bool = False,
) -> ResearchDelivery:
    """Record research going to one client through ``channel`` (the caller has checked that the actor
    acts for the client). Refused when the source is not valid (Art. 17) or the item is not published;
    a risk mismatch is refused too unless ``allow_unsuitable`` (the client asked for it and was warned —
    the warning is stored). The suitability result is stored with the delivery.

    - e-mail / WeCom / SMS: queued on the notification gateway (retried; status *sent* or *failed*
      with the reason);
    - in person: a *pending* task owned by the client's manager, who marks it done;
    - consultation citation / premium briefing: *done* at once, by the actor."""
    if channel not in D.Channel.values:
        raise DomainError(_("未知的交付渠道。"), field="channel")
    today = timezone.localdate()
    if not item.source.is_valid_on(today):
        raise DomainError(
            _("%(r)s，不得向客户提供其研究成果（证券投资顾问业务暂行规定第十七条）。")
            % {"r": item.source.invalid_reason(today)},
            field="item",
        )
    if item.state != S.PUBLISHED or (item.expires_on and item.expires_on < today):
        raise DomainError(
            _("研究成果“%(t)s”未发布或已失效，不能交付客户。") % {"t": item.title}, field="item"
        )
    result = suitability_check(item=item, client=client, today=today)
    if not result["ok"]:
        if not allow_unsuitable:
            raise DomainError(_("适当性检查未通过：%(r)s。") % {"r": result["reason"]}, field="client")
        result["warning_acknowledged"] = True
    now = timezone.now()
    delivery = D(
        item=item,
        client=client,
        branch_id=client.branch_id,
        channel=channel,
        push=push,
        note=note.strip()[:2000],
        suitability=result,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if channel in (D.Channel.CONSULTATION, D.Channel.BRIEFING):
        delivery.status, delivery.delivered_at = D.Status.DONE, now
        delivery.delivered_by = delivery.created_by
    elif channel == D.Channel.IN_PERSON:
        delivery.status = D.Status.PENDING
        delivery.owner_id = client.manager_id or getattr(actor, "pk", None)
    else:
        delivery.status = D.Status.PENDING
    if push is not None and D.objects.filter(push=push, item=item, client=client, channel=channel).exists():
        raise DomainError(_("本次推送已向该客户通过该渠道交付过。"), field="channel")
    delivery.save()
    if channel in EXTERNAL_CHANNELS:
        sent = core_notify.notify(
            recipients=[actor],
            title=_("研究推送：《%(t)s》→ %(c)s（%(ch)s）")
            % {"t": item.title[:60], "c": client.client_no, "ch": delivery.get_channel_display()},
            body=item.summary or item.title,
            kind="research_push",
            channels=[f"research_{channel}"],
        )
        if sent:
            type(sent[0]).objects.filter(pk__in=[n.pk for n in sent]).update(read_at=now)
            delivery.notification_id = sent[0].pk
            delivery.save(update_fields=["notification_id"])
    events.publish(
        "research.delivered",
        delivery_id=delivery.pk,
        item_id=item.pk,
        client_id=client.pk,
        channel=channel,
        actor=actor,
    )
    audit_log(
        actor=actor,
        action="research.delivery.record",
        obj=delivery,
        branch_id=client.branch_id,
        changes={"item": [None, item.pk], "client": [None, client.pk], "channel": [None, channel]},
    )
    return delivery


@transaction.atomic
def delivery_mark_done(*, actor: Any, delivery: ResearchDelivery, note: str = "") -> ResearchDelivery:
    """The owner (or the branch director) confirms an in-person delivery."""
    locked = D.objects.select_for_update(of=("self",)).get(pk=delivery.pk)
    if locked.channel != D.Channel.IN_PERSON or locked.status != D.Status.PENDING:
        raise DomainError(_("该交付任务不是待当面交付状态。"), code="invalid_state")
    is_director = actor.has_cap(Cap.SUPERVISE) and actor.branch_id == locked.branch_id
    if locked.owner_id != actor.pk and not is_director:
        raise DomainError(_("只有任务负责人可以确认当面交付。"), code="forbidden")
    locked.status, locked.delivered_at, locked.delivered_by = D.Status.DONE, timezone.now(), actor
    if note.strip():
        locked.note = (locked.note + "\n" + note.strip()).strip()[:2000]
    locked.save(update_fields=["status", "delivered_at", "delivered_by", "note"])
    audit_log(actor=actor, action="research.delivery.done", obj=locked, branch_id=locked.branch_id,
              changes={"status": [D.Status.PENDING, D.Status.DONE]})  # fmt: skip
    return locked


@transaction.atomic
def delivery_retry(*, actor: Any, delivery: ResearchDelivery) -> ResearchDelivery:
    """Send a failed e-mail / WeCom / SMS delivery again (after the automatic retries gave up or
    while they are still pending): the gateway attempt series restarts now."""
    from branchcare.core.models import NotificationDelivery

    locked = D.objects.select_for_update(of=("self",)).select_related("item__source").get(pk=delivery.pk)
    if locked.channel not in EXTERNAL_CHANNELS or locked.status != D.Status.FAILED:
        raise DomainError(_("只有发送失败的电子邮件、企业微信或短信可以重新发送。"), code="invalid_state")
    today = timezone.localdate()
    if not locked.item.source.is_valid_on(today):
        raise DomainError(
            _("%(r)s，不得向客户提供其研究成果（证券投资顾问业务暂行规定第十七条）。")
            % {"r": locked.item.source.invalid_reason(today)},
            field="item",
        )
    notification_id = locked.notification_id
    if notification_id is None:
        raise DomainError(_("找不到该交付的发送记录。"), code="invalid_state")
    ids = list(
        NotificationDelivery.objects.filter(notification_id=notification_id).values_list("pk", flat=True)
    )
    if not ids:
        raise DomainError(_("找不到该交付的发送记录。"), code="invalid_state")
    NotificationDelivery.objects.filter(pk__in=ids).update(
        status=NotificationDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    audit_log(actor=actor, action="research.delivery.retry", obj=locked, branch_id=locked.branch_id,
              changes={"failure_reason": [locked.failure_reason, None]})  # fmt: skip
    transaction.on_commit(lambda: core_notify._enqueue(ids))
    return locked


# --- channel adapters (through core.notify: recorded, retried, never silently lost) ------------------------


def _gateway_sender(channel: str):
    def sender(n: Any) -> None:
        d = D.objects.select_related("item", "client").filter(notification_id=n.pk).first()
        if d is None:
            raise ValueError("找不到对应的研究交付记录")
        try:
            url = settings.BRANCHCARE.get("WEBHOOK_URL", "")
            if not url:
                raise ValueError("未配置消息网关 WEBHOOK_URL")
            text = f"{d.item.title}\n{d.item.summary or ''}\n{d.item.publisher} {d.item.published_on or ''}"
            payload = {
                "msgtype": "text",
                "channel": channel,
                "client_no": d.client.client_no,
                "text": {"content": mask_text(text.strip())},
            }
            request = urllib.request.Request(  # noqa: S310 - the administrator's configured gateway
                url,
                data=json.dumps(payload, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if response.status >= 300:
                    raise ValueError(f"HTTP {response.status}")
        except Exception as exc:
            D.objects.filter(pk=d.pk).update(status=D.Status.FAILED, failure_reason=mask_text(str(exc))[:500])
            raise
        D.objects.filter(pk=d.pk).update(status=D.Status.SENT, delivered_at=timezone.now(), failure_reason="")

    return sender


for _ch in EXTERNAL_CHANNELS:
    core_notify.register_channel(f"research_{_ch}", _gateway_sender(str(_ch)))


# --- pushes ------------------------------------------------------------------------------------------------


def _clean_audience(audience: dict[str, Any]) -> dict[str, Any]:
    kind = audience.get("kind")
    out: dict[str, Any] = {"kind": kind}
    if kind == "holders":
        if not str(audience.get("security") or "").isdigit():
            raise DomainError(_("请选择持有的证券。"), field="security")
        out["security"] = int(audience["security"])
    elif kind == "tier":
        if audience.get("tier") not in Client.Tier.values:
            raise DomainError(_("请选择客户层级。"), field="tier")
        out["tier"] = audience["tier"]
    elif kind == "premium":
        pass
    elif kind == "manager":
        if not str(audience.get("manager") or "").isdigit():
            raise DomainError(_("请选择客户经理。"), field="manager")
        out["manager"] = int(audience["manager"])
    elif kind == "clients":
        out["clients"] = [int(x) for x in audience.get("clients") or [] if str(x).isdigit()][:5000]
        if not out["clients"]:
            raise DomainError(_("请选择客户。"), field="clients")
    else:
        raise DomainError(
            _("请选择推送对象（持仓客户、客户层级、高端客户或客户经理名下客户）。"), field="kind"
        )
    return out


def push_preview(
    *, actor: Any, item: ResearchItem, audience: dict[str, Any], limit: int = 500
) -> dict[str, Any]:
    """Who an audience reaches and who the suitability filter excludes, with reasons.

    Returns ``{"audience", "total", "included": [(client, result)], "excluded": [(client, result)],
    "truncated"}`` (the lists capped at ``limit`` each; the counts are exact). Two queries."""
    if not selectors.can_push(actor):
        raise DomainError(_("您没有推送研究的权限。"), code="forbidden")
    spec = _clean_audience(audience)
    clients = list(
        selectors.audience_clients(viewer=actor, audience=spec).only(
            "pk", "client_no", "name", "risk_level", "risk_assessed_on", "branch_id", "manager_id", "tier"
        )[:20000]
    )
    today = timezone.localdate()
    included: list[tuple[Client, dict[str, Any]]] = []
    excluded: list[tuple[Client, dict[str, Any]]] = []
    for c in clients:
        result = suitability_check(item=item, client=c, today=today)
        (included if result["ok"] else excluded).append((c, result))
    return {
        "audience": spec,
        "total": len(clients),
        "included_count": len(included),
        "excluded_count": len(excluded),
        "included": included[:limit],
        "excluded": excluded[:limit],
        "truncated": len(included) > limit or len(excluded) > limit,
    }


@transaction.atomic
def push_create(
    *, actor: Any, item: ResearchItem, audience: dict[str, Any], channels: list[str], note: str = ""
) -> ResearchPush:
    """Create a push and queue it (background task after commit). Refused when the item cannot be
    delivered at all (source invalid, not published) or no channel is chosen."""
    if not selectors.can_push(actor):
        raise DomainError(_("您没有推送研究的权限。"), code="forbidden")
    today = timezone.localdate()
    if not item.source.is_valid_on(today):
        raise DomainError(
            _("%(r)s，不得向客户提供其研究成果（证券投资顾问业务暂行规定第十七条）。")
            % {"r": item.source.invalid_reason(today)},
            field="item",
        )
    if item.state != S.PUBLISHED or (item.expires_on and item.expires_on < today):
        raise DomainError(_("只有已发布且在有效期内的研究成果可以推送。"), field="item")
    chosen = [c for c in dict.fromkeys(channels) if c in PUSH_CHANNELS]
    if not chosen:
        raise DomainError(_("请至少选择一个推送渠道。"), field="channels")
    spec = _clean_audience(audience)
    if actor.branch_id is None:
        raise DomainError(_("您没有所属营业部，不能推送。"), field="kind")
    preview = push_preview(actor=actor, item=item, audience=spec, limit=0)
    total = preview["total"]
    if total == 0:
        raise DomainError(_("所选推送对象中没有客户。"), field="kind")
    if preview["included_count"] == 0:
        raise DomainError(_("所选客户均未通过适当性检查，没有可推送的客户。"), field="kind")
    push = ResearchPush.objects.create(
        item=item,
        branch_id=actor.branch_id,
        created_by=actor,
        audience=spec,
        channels=[str(c) for c in chosen],
        note=note.strip()[:2000],
        total=total,
    )
    audit_log(actor=actor, action="research.push.create", obj=push, changes={"item": [None, item.pk], "audience": [None, spec], "channels": [None, push.channels], "total": [None, total]})  # fmt: skip
    from .tasks import run_push

    transaction.on_commit(lambda: run_push(push.pk))
    return push


BATCH = 200


def push_execute(push_id: int) -> ResearchPush | None:
    """Run a queued push: suitability per client, a delivery per included client and channel, the
    excluded clients with their reasons stored on the push; progress saved after every batch.
    Idempotent: only a *queued* push is claimed."""
    claimed = ResearchPush.objects.filter(pk=push_id, status=ResearchPush.Status.QUEUED).update(
        status=ResearchPush.Status.RUNNING
    )
    if not claimed:
        return None
    push = ResearchPush.objects.select_related("item__source", "created_by").get(pk=push_id)
    actor = push.created_by
    item = push.item
    clients = list(
        selectors.audience_clients(viewer=actor, audience=push.audience).values_list("pk", flat=True)
    )
    excluded: list[dict[str, Any]] = []
    counts = {"processed": 0, "included": 0, "sent": 0, "failed": 0, "tasks": 0}
    for start in range(0, len(clients), BATCH):
        batch = Client.objects.filter(pk__in=clients[start : start + BATCH]).order_by("client_no")
        for c in batch:
            result = suitability_check(item=item, client=c)
            counts["processed"] += 1
            if not result["ok"]:
                excluded.append(
                    {"client": c.pk, "client_no": c.client_no, "name": c.name, "reason": result["reason"]}
                )
                continue
            counts["included"] += 1
            for channel in push.channels:
                try:
                    d = delivery_record(
                        actor=actor, item=item, client=c, channel=channel, push=push, note=push.note
                    )
                except DomainError as exc:
                    excluded.append(
                        {"client": c.pk, "client_no": c.client_no, "name": c.name, "reason": exc.message}
                    )
                    counts["failed"] += 1
                    continue
                if d.channel == D.Channel.IN_PERSON:
                    counts["tasks"] += 1
        ResearchPush.objects.filter(pk=push.pk).update(
            processed=counts["processed"], included_count=counts["included"], excluded_count=len(excluded),
            task_count=counts["tasks"], excluded=excluded[:2000],
        )  # fmt: skip
    ResearchPush.objects.filter(pk=push.pk).update(
        status=ResearchPush.Status.DONE, finished_at=timezone.now(), processed=counts["processed"],
        included_count=counts["included"], excluded_count=len(excluded), task_count=counts["tasks"],
        excluded=excluded[:2000],
    )  # fmt: skip
    push.refresh_from_db()
    return push


def push_refresh_counts(push: ResearchPush) -> dict[str, int]:
    """Current delivery status counts of a push (one query)."""
    from django.db.models import Count

    rows = push.deliveries.values("status").annotate(n=Count("pk"))
    return {r["status"]: r["n"] for r in rows}
