"""Prospect development (潜在客户开发): every write.

Writes are keyword-only, atomic and audited; stage changes go through
:func:`branchcare.core.workflow.transition` with :data:`.workflows.PROSPECT` (one at a time) or, for the
conversion of many clients at once, through :func:`_bulk_step`, which writes the same transition-log and
audit rows in bulk.

Rules kept here:

* a phone number is stored normalised (digits only) and may belong to one prospect of the company and to
  no existing client; an ID number likewise — the refusal names the existing record, masked;
* a partner-referred prospect carries a valid referral code (active partner, agreement in force) and, by
  default, the partner's offered commission rate; a referral names a premium client;
* prospects untouched for the branch's ``reclaim_days`` (default 7) return to the pool
  (:func:`pool_reclaim`, a periodic task), and the former owner is told;
* conversion: a new client (form, API or import, the ``clients.created`` event) is matched to open
  prospects by phone or ID number; the prospect is linked, moved to "account opened", credited to its
  partner and owner, the client gets the offered commission rate, and advice-seekers are offered the
  premium service;
* "funded" and "active" follow the client's data (:func:`stages_sync`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchcare.clients.import_specs import parse_id_number, parse_phone
from branchcare.clients.models import Client, Holding
from branchcare.core import workflow as wf
from branchcare.core.audit import audit_bulk_append, audit_log, diff, snapshot
from branchcare.core.errors import DomainError
from branchcare.core.imports import CellError
from branchcare.core.masking import mask_id_number, mask_phone
from branchcare.core.models import TransitionLog
from branchcare.core.notify import notify
from branchcare.org.capabilities import Cap
from branchcare.org.models import Branch, User

from .models import Partner, Prospect, ProspectFollowUp, ProspectSettings
from .workflows import CONVERTED_STAGES, OPEN_STAGES, PROSPECT, RANK, is_director_of, is_owner_role

St = Prospect.Stage
DEFAULT_RECLAIM_DAYS = 7
PARTNER_FIELDS = [
    "name", "kind", "contact_name", "contact_phone", "offered_rate", "agreement_start", "agreement_end",
    "referral_code", "active", "notes",
]  # fmt: skip
PROSPECT_FIELDS = [
    "name", "phone", "id_number", "source", "partner", "referrer", "segment", "offered_rate",
    "next_follow_up_due", "notes",
]  # fmt: skip
AUDITED = [*PROSPECT_FIELDS, "owner", "stage"]


# --- helpers -----------------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张三丰 -> 张**: enough to recognise a record without disclosing it."""
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def normalise_phone(raw: str) -> str:
    """Digits only (spaces, dashes, +86 dropped); a mobile number must have 11 digits."""
    try:
        return parse_phone(raw or "")
    except CellError as exc:
        raise DomainError(exc.message, field="phone") from None


def normalise_id_number(raw: str) -> str:
    if not (raw or "").strip():
        return ""
    try:
        return parse_id_number(raw)
    except CellError as exc:
        raise DomainError(exc.message, field="id_number") from None


def duplicate_message(
    *, company_id: int, phone: str, id_number: str = "", exclude_pk: int | None = None
) -> tuple[str, str] | None:
    """``(field, Chinese message)`` naming the existing prospect or client (masked) that already has this
    phone or ID number in the company, or None."""
    for field, value in (("phone", phone), ("id_number", id_number)):
        if not value:
            continue
        prospects = Prospect.objects.filter(branch__company_id=company_id, **{field: value})
        if exclude_pk:
            prospects = prospects.exclude(pk=exclude_pk)
        p = prospects.select_related("owner", "branch").first()
        label = _("手机号") if field == "phone" else _("证件号码")
        if p is not None:
            return field, _(
                "%(label)s已登记为潜在客户：#%(pk)s %(name)s（%(phone)s，%(branch)s，负责人：%(owner)s，阶段：%(stage)s）。"
                "请勿重复登记，可联系负责人或营业部经理。"
            ) % {
                "label": label,
                "pk": p.pk,
                "name": mask_name(p.name),
                "phone": mask_phone(p.phone),
                "branch": p.branch.name,
                "owner": p.owner or _("公海"),
                "stage": p.get_stage_display(),
            }
        clients = Client.objects.filter(branch__company_id=company_id, **{field: value})
        if field == "phone":
            clients = clients.filter(phone_tail=value[-4:])
        c = clients.select_related("branch").first()
        if c is not None:
            return field, _(
                "%(label)s已是本公司客户：客户号 %(no)s %(name)s（%(id)s，%(branch)s），不能登记为潜在客户。"
            ) % {
                "label": label,
                "no": c.client_no,
                "name": mask_name(c.name),
                "id": mask_phone(c.phone) if field == "phone" else mask_id_number(c.id_number),
                "branch": c.branch.name,
            }
    return None


def settings_for(branch: Branch | int) -> ProspectSettings:
    """The branch's settings (created with the defaults on first use)."""
    branch_id = branch if isinstance(branch, int) else branch.pk
    obj, _created = ProspectSettings.objects.get_or_create(branch_id=branch_id)
    return obj


@transaction.atomic
def settings_update(*, actor: User, branch: Branch, reclaim_days: int) -> ProspectSettings:
    """Change how many days an untouched prospect stays with its owner (1–365)."""
    if not actor.has_cap(Cap.SUPERVISE) or actor.branch_id != branch.pk:
        raise DomainError(_("只有本营业部经理可以修改潜客开发设置。"), code="forbidden")
    if not 1 <= int(reclaim_days) <= 365:
        raise DomainError(_("回收天数应在 1 到 365 之间。"), field="reclaim_days")
    obj = settings_for(branch)
    before = snapshot(obj, ["reclaim_days"])
    obj.reclaim_days = int(reclaim_days)
    obj.save(update_fields=["reclaim_days", "updated_at"])
    audit_log(
        actor=actor, action="prospects.settings", obj=obj, branch_id=branch.pk,
        changes=diff(before, snapshot(obj, ["reclaim_days"])),
    )  # fmt: skip
    return obj


# --- partners ----------------------------------------------------------------------------------------------


def _check_partner(branch_id: int, data: dict[str, Any], exclude_pk: int | None = None) -> None:
    if data.get("kind", Partner.Kind.OTHER) not in Partner.Kind.values:
        raise DomainError(_("请选择有效的合作伙伴类型。"), field="kind")
    if not (data.get("name") or "").strip():
        raise DomainError(_("请填写合作伙伴名称。"), field="name")
    code = (data.get("referral_code") or "").strip().upper()
    if not code:
        raise DomainError(_("请填写推荐码。"), field="referral_code")
    data["referral_code"] = code
    if Partner.objects.filter(referral_code=code).exclude(pk=exclude_pk or 0).exists():
        raise DomainError(_("推荐码 %(c)s 已被其他合作伙伴使用。") % {"c": code}, field="referral_code")
    start, end = data.get("agreement_start"), data.get("agreement_end")
    if start and end and end < start:
        raise DomainError(_("协议结束日期不能早于开始日期。"), field="agreement_end")
    rate = data.get("offered_rate")
    if rate is not None and not Decimal("0") <= rate < Decimal("100"):
        raise DomainError(_("约定佣金率应在 0 到 100‰ 之间。"), field="offered_rate")


def _require_director(actor: User, branch_id: int) -> None:
    if not (actor.has_cap(Cap.SUPERVISE) and actor.branch_id == branch_id):
        raise DomainError(_("只有本营业部经理可以管理合作伙伴。"), code="forbidden")


@transaction.atomic
def partner_create(*, actor: User, branch: Branch, data: dict[str, Any]) -> Partner:
    """Register a partner business and its agreement (the director)."""
    _require_director(actor, branch.pk)
    data = dict(data)
    _check_partner(branch.pk, data)
    partner = Partner.objects.create(branch=branch, **{k: v for k, v in data.items() if k in PARTNER_FIELDS})
    audit_log(
        actor=actor, action="prospects.partner_create", obj=partner,
        changes=diff({}, snapshot(partner, PARTNER_FIELDS)),
    )  # fmt: skip
    return partner


@transaction.atomic
def partner_update(*, actor: User, partner: Partner, data: dict[str, Any]) -> Partner:
    """Change a partner's contact or agreement (the director)."""
    _require_director(actor, partner.branch_id)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    merged = {**snapshot(partner, PARTNER_FIELDS), **data}
    merged["offered_rate"] = data.get("offered_rate", partner.offered_rate)
    merged["agreement_start"] = data.get("agreement_start", partner.agreement_start)
    merged["agreement_end"] = data.get("agreement_end", partner.agreement_end)
    _check_partner(partner.branch_id, merged, exclude_pk=partner.pk)
    before = snapshot(partner, PARTNER_FIELDS)
    for key in PARTNER_FIELDS:
        if key in data or key == "referral_code":
            setattr(partner, key, merged[key])
    partner.save()
    audit_log(
        actor=actor, action="prospects.partner_update", obj=partner,
        changes=diff(before, snapshot(partner, PARTNER_FIELDS)),
    )  # fmt: skip
    return partner


def partner_for_code(*, branch: Branch, code: str, today: dt.date | None = None) -> Partner:
    """The partner of ``code`` in the branch, with its agreement in force today; DomainError otherwise."""
    today = today or timezone.localdate()
    code = (code or "").strip().upper()
    if not code:
        raise DomainError(_("合作伙伴推荐的潜在客户须填写推荐码。"), field="referral_code")
    partner = Partner.objects.filter(branch=branch, referral_code=code).first()
    if partner is None:
        raise DomainError(_("推荐码 %(c)s 不存在。") % {"c": code}, field="referral_code")
    if not partner.active:
        raise DomainError(
            _("合作伙伴 %(p)s 已停止合作，推荐码不可用。") % {"p": partner.name}, field="referral_code"
        )
    if (partner.agreement_start and today < partner.agreement_start) or (
        partner.agreement_end and today > partner.agreement_end
    ):
        raise DomainError(
            _("合作伙伴 %(p)s 的协议不在有效期内，推荐码不可用。") % {"p": partner.name},
            field="referral_code",
        )
    return partner


# --- prospects ---------------------------------------------------------------------------------------------


def _clean_prospect_data(
    *, branch: Branch, data: dict[str, Any], exclude_pk: int | None = None, current: Prospect | None = None
) -> dict[str, Any]:
    """Validate and normalise prospect fields (refuses duplicates); returns the values to store."""
    out = {k: v for k, v in data.items() if k in PROSPECT_FIELDS}
    if "name" in data or current is None:
        out["name"] = (data.get("name") or "").strip()
        if not out["name"]:
            raise DomainError(_("请填写姓名。"), field="name")
    if "phone" in data or current is None:
        out["phone"] = normalise_phone(data.get("phone") or "")
    if "id_number" in data:
        out["id_number"] = normalise_id_number(data.get("id_number") or "")
    phone = out.get("phone", current.phone if current else "")
    id_number = out.get("id_number", current.id_number if current else "")
    dup = duplicate_message(
        company_id=branch.company_id, phone=phone, id_number=id_number, exclude_pk=exclude_pk
    )
    if dup:
        raise DomainError(dup[1], field=dup[0])
    source = out.get("source", current.source if current else Prospect.Source.WALK_IN)
    if source not in Prospect.Source.values:
        raise DomainError(_("请选择有效的来源。"), field="source")
    if "referral_code" in data or ("source" in data and source == Prospect.Source.PARTNER):
        if source == Prospect.Source.PARTNER:
            code = data.get("referral_code")
            if code is None and current is not None and current.partner_id:
                out["partner"] = current.partner
            else:
                out["partner"] = partner_for_code(branch=branch, code=code or "")
        else:
            out["partner"] = None
    if source != Prospect.Source.PARTNER:
        out["partner"] = None
    if source == Prospect.Source.REFERRAL:
        referrer = out.get("referrer", current.referrer if current else None)
        if referrer is None:
            raise DomainError(_("高端客户转介绍须填写推荐客户的客户号。"), field="referrer")
        if referrer.branch.company_id != branch.company_id or not referrer.is_premium:
            raise DomainError(
                _("推荐客户 %(no)s 不是本公司的高端客户。") % {"no": referrer.client_no}, field="referrer"
            )
    else:
        out["referrer"] = None
    segment = out.get("segment", current.segment if current else Prospect.Segment.PRICE)
    if segment not in Prospect.Segment.values:
        raise DomainError(_("请选择有效的客户类型。"), field="segment")
    if "offered_rate" not in data or data.get("offered_rate") is None:
        partner = out.get("partner", current.partner if current else None)
        if current is None and partner is not None:
            out["offered_rate"] = partner.offered_rate
    rate = out.get("offered_rate")
    if rate is not None and not Decimal("0") <= rate < Decimal("100"):
        raise DomainError(_("承诺佣金率应在 0 到 100‰ 之间。"), field="offered_rate")
    return out


def check_owner(owner: User | None, branch_id: int) -> None:
    if owner is None:
        return
    if owner.branch_id != branch_id or not owner.is_active or not is_owner_role(owner):
        raise DomainError(_("负责人须为本营业部的经纪人或客户经理。"), field="owner")


@transaction.atomic
def prospect_create(
    *,
    actor: User,
    branch: Branch,
    data: dict[str, Any],
    owner: User | None = None,
    now: dt.datetime | None = None,
) -> Prospect:
    """Register a prospect. ``data`` holds the model fields plus ``referral_code`` for partner referrals
    (``partner`` is resolved from it). ``owner`` None puts it in the pool."""
    if actor.branch_id != branch.pk or not (is_owner_role(actor) or actor.has_cap(Cap.SUPERVISE)):
        raise DomainError(_("您没有在该营业部登记潜在客户的权限。"), code="forbidden")
    check_owner(owner, branch.pk)
    values = _clean_prospect_data(branch=branch, data=data)
    now = now or timezone.now()
    prospect = Prospect.objects.create(
        branch=branch, owner=owner, created_by=actor, last_touched_at=now, state_changed_at=now, **values
    )
    audit_log(
        actor=actor, action="prospects.create", obj=prospect, changes=diff({}, snapshot(prospect, AUDITED))
    )
    return prospect


def _require_hands_on(actor: User, prospect: Prospect) -> None:
    """The owner or the branch director may change a prospect; a pool prospect must be claimed first."""
    if prospect.owner_id == actor.pk and is_owner_role(actor):
        return
    if is_director_of(actor, prospect):
        return
    if prospect.owner_id is None:
        raise DomainError(_("该潜在客户在公海中，请先认领。"), code="forbidden")
    raise DomainError(_("只有负责人或营业部经理可以修改该潜在客户。"), code="forbidden")


@transaction.atomic
def prospect_update(*, actor: User, prospect: Prospect, data: dict[str, Any]) -> Prospect:
    """Edit a prospect's details (same checks as on creation; the phone is deduplicated again)."""
    _require_hands_on(actor, prospect)
    prospect = Prospect.objects.select_for_update(of=("self",)).select_related("branch").get(pk=prospect.pk)
    values = _clean_prospect_data(branch=prospect.branch, data=data, exclude_pk=prospect.pk, current=prospect)
    before = snapshot(prospect, AUDITED)
    for key, value in values.items():
        setattr(prospect, key, value)
    prospect.save()
    audit_log(
        actor=actor,
        action="prospects.update",
        obj=prospect,
        changes=diff(before, snapshot(prospect, AUDITED)),
    )
    return prospect


def _reached(prospect: Prospect, target: str) -> int:
    return max(prospect.reached, RANK.get(target, 0))


def prospect_transition(
    *, actor: User, prospect: Prospect, name: str, note: str = "", now: dt.datetime | None = None
) -> Prospect:
    """Perform one manual step (contact, visit, lose, reopen) through the workflow engine."""
    if name not in ("contact", "visit", "lose", "reopen"):
        raise DomainError(_("未知的操作：%(n)s") % {"n": name})
    now = now or timezone.now()
    t = PROSPECT.get(name)
    return wf.transition(  # type: ignore[return-value]
        workflow=PROSPECT, obj=prospect, name=name, actor=actor, note=note, now=now, holder=prospect.owner,
        changes={"reached": _reached(prospect, t.target), "last_touched_at": now},
    )  # fmt: skip


@transaction.atomic
def followup_log(
    *,
    actor: User,
    prospect: Prospect,
    notes: str,
    channel: str = ProspectFollowUp.Channel.PHONE,
    next_due: dt.date | None = None,
    step: str = "",
    now: dt.datetime | None = None,
) -> ProspectFollowUp:
    """Record a contact: the notes, the next follow-up date, and optionally a step (``contact`` /
    ``visit``). A lead becomes "contacted" when its first contact is logged."""
    _require_hands_on(actor, prospect)
    now = now or timezone.now()
    if not (notes or "").strip():
        raise DomainError(_("请填写跟进内容。"), field="notes")
    if channel not in ProspectFollowUp.Channel.values:
        raise DomainError(_("请选择有效的跟进方式。"), field="channel")
    if next_due is not None and next_due < timezone.localdate(now):
        raise DomainError(_("下次跟进日期不能早于今天。"), field="next_due")
    if prospect.stage not in OPEN_STAGES:
        raise DomainError(
            _("潜在客户处于“%(s)s”阶段，不再需要跟进。") % {"s": prospect.get_stage_display()}, field="notes"
        )
    if step and step not in ("contact", "visit"):
        raise DomainError(_("未知的操作：%(n)s") % {"n": step}, field="step")
    if not step and prospect.stage == St.LEAD:
        step = "contact"
    follow_up = ProspectFollowUp.objects.create(
        prospect=prospect, channel=channel, notes=notes.strip(), at=now, by=actor, next_due=next_due
    )
    if step:
        prospect = prospect_transition(
            actor=actor, prospect=prospect, name=step, note=notes.strip()[:200], now=now
        )
    Prospect.objects.filter(pk=prospect.pk).update(last_touched_at=now, next_follow_up_due=next_due)
    audit_log(
        actor=actor, action="prospects.follow_up", obj=prospect,
        changes={"channel": [None, channel], "next_follow_up_due": [None, str(next_due) if next_due else None]},
    )  # fmt: skip
    return follow_up


@transaction.atomic
def prospect_claim(*, actor: User, prospect: Prospect, now: dt.datetime | None = None) -> Prospect:
    """Take a prospect from the branch's pool (brokers and managers). First come, first served."""
    if not is_owner_role(actor) or actor.branch_id != prospect.branch_id:
        raise DomainError(_("只有本营业部的经纪人或客户经理可以认领潜在客户。"), code="forbidden")
    now = now or timezone.now()
    taken = Prospect.objects.filter(pk=prospect.pk, owner__isnull=True, stage__in=OPEN_STAGES).update(
        owner=actor, last_touched_at=now
    )
    if not taken:
        raise DomainError(_("该潜在客户已被认领或不在公海中。"), code="conflict")
    prospect.refresh_from_db()
    audit_log(actor=actor, action="prospects.claim", obj=prospect, changes={"owner": [None, str(actor.pk)]})
    return prospect


@transaction.atomic
def prospect_assign(
    *, actor: User, prospect: Prospect, owner: User | None, now: dt.datetime | None = None
) -> Prospect:
    """The director gives a prospect to a broker or manager of the branch (None: back to the pool)."""
    if not is_director_of(actor, prospect):
        raise DomainError(_("只有本营业部经理可以分配潜在客户。"), code="forbidden")
    check_owner(owner, prospect.branch_id)
    now = now or timezone.now()
    prospect = Prospect.objects.select_for_update(of=("self",)).get(pk=prospect.pk)
    old = prospect.owner
    if old == owner:
        return prospect
    prospect.owner = owner
    prospect.previous_owner = old
    prospect.last_touched_at = now
    prospect.save(update_fields=["owner", "previous_owner", "last_touched_at", "updated_at"])
    audit_log(
        actor=actor, action="prospects.assign", obj=prospect,
        changes={"owner": [str(old.pk) if old else None, str(owner.pk) if owner else None]},
    )  # fmt: skip
    if owner is not None and owner.pk != actor.pk:
        notify(
            recipients=[owner],
            title=_("营业部经理分配给您一位潜在客户：%(n)s") % {"n": prospect.name},
            url=reverse("prospects:detail", args=[prospect.pk]),
        )
    return prospect


@transaction.atomic
def pool_reclaim(*, now: dt.datetime | None = None) -> int:
    """Return to the pool every open prospect whose owner has not touched it for the branch's
    ``reclaim_days``; tell each former owner once. Idempotent. Returns how many were reclaimed."""
    now = now or timezone.now()
    days = dict(ProspectSettings.objects.values_list("branch_id", "reclaim_days"))
    branch_ids = (
        Prospect.objects.filter(owner__isnull=False, stage__in=OPEN_STAGES)
        .values_list("branch_id", flat=True)
        .distinct()
    )
    q = Q(pk__in=[])
    for branch_id in branch_ids:
        cutoff = now - dt.timedelta(days=days.get(branch_id, DEFAULT_RECLAIM_DAYS))
        q |= Q(branch_id=branch_id, last_touched_at__lt=cutoff)
    rows = list(
        Prospect.objects.select_for_update(of=("self",))
        .filter(q, owner__isnull=False, stage__in=OPEN_STAGES)
        .select_related("owner")
        .order_by("pk")
    )
    if not rows:
        return 0
    by_owner: dict[int, list[Prospect]] = defaultdict(list)
    owners: dict[int, User] = {}
    for p in rows:
        by_owner[p.owner_id].append(p)  # type: ignore[index]
        owners[p.owner_id] = p.owner  # type: ignore[index,assignment]
        p.previous_owner_id = p.owner_id
        p.owner = None
    Prospect.objects.bulk_update(rows, ["owner", "previous_owner"])
    audit_bulk_append(
        {
            "actor": None, "action": "prospects.reclaim", "object_type": "prospects.prospect",
            "object_id": p.pk, "object_repr": str(p), "branch_id": p.branch_id,
            "changes": {"owner": [str(p.previous_owner_id), None]},
        }
        for p in rows
    )  # fmt: skip
    for owner_id, items in by_owner.items():
        names = "、".join(p.name for p in items[:5]) + ("……" if len(items) > 5 else "")
        notify(
            recipients=[owners[owner_id]],
            title=_("%(n)s 位潜在客户因长期未跟进已退回公海") % {"n": len(items)},
            body=_("超过回收天数未跟进：%(names)s。如仍在跟进，可在公海中重新认领。") % {"names": names},
            url=reverse("prospects:list") + "?view=pool",
            kind="warning",
        )
    return len(rows)


# --- conversion --------------------------------------------------------------------------------------------


def _bulk_step(
    prospects: list[Prospect], *, name: str, actor: Any, now: dt.datetime, notes: dict[int, str] | None = None,
    extra_fields: Iterable[str] = (),
) -> None:  # fmt: skip
    """Move many prospects along one step at once: the same state change, transition-log rows and audit
    records as :func:`branchcare.core.workflow.transition`, written in bulk. The rows must be locked and
    already carry the new values of ``extra_fields``."""
    t = PROSPECT.get(name)
    actor_obj = actor if getattr(actor, "pk", None) else None
    logs, audits = [], []
    for p in prospects:
        if p.stage not in t.sources:
            continue
        from_state = p.stage
        p.stage = t.target
        p.state_changed_at = now
        p.reached = _reached(p, t.target)
        note = (notes or {}).get(p.pk, "")
        logs.append(
            TransitionLog(
                workflow=PROSPECT.name, object_type="prospects.prospect", object_id=str(p.pk), transition=name,
                from_state=from_state, to_state=t.target, actor=actor_obj, holder_id=p.owner_id, at=now,
                note=note, sla="none",
            )
        )  # fmt: skip
        audits.append(
            {
                "actor": actor_obj, "action": f"prospect.{name}", "object_type": "prospects.prospect",
                "object_id": p.pk, "object_repr": str(p), "branch_id": p.branch_id,
                "changes": {"state": [from_state, t.target], **({"note": [None, note]} if note else {})},
            }
        )  # fmt: skip
    Prospect.objects.bulk_update(prospects, ["stage", "state_changed_at", "reached", *extra_fields])
    TransitionLog.objects.bulk_create(logs)
    audit_bulk_append(audits)


def _convert_pairs(pairs: list[tuple[Prospect, dict[str, Any]]], *, actor: Any, now: dt.datetime) -> None:
    """Link each prospect to its client (a dict of the client's values): "account opened", credit to the
    partner and owner, the offered commission rate on the client, the premium offer to advice-seekers."""
    if not pairs:
        return
    notes = {}
    for p, c in pairs:
        p.client_id = c["pk"]
        p.converted_at = now
        p.last_touched_at = now
        p.credited_partner_id = p.partner_id
        p.credited_owner_id = p.owner_id
        if p.segment == Prospect.Segment.ADVICE:
            p.premium_offered = True
        notes[p.pk] = _("开户客户号 %(no)s") % {"no": c["client_no"]}
    prospects = [p for p, _c in pairs]
    _bulk_step(
        prospects, name="open_account", actor=actor, now=now, notes=notes,
        extra_fields=["client", "converted_at", "last_touched_at", "credited_partner", "credited_owner",
                      "premium_offered"],
    )  # fmt: skip
    # The offered commission rate goes onto the client (one UPDATE per distinct rate), audited per client.
    by_rate: dict[Decimal, list[dict[str, Any]]] = defaultdict(list)
    for p, c in pairs:
        if p.offered_rate is not None and c["commission_rate"] != p.offered_rate:
            by_rate[p.offered_rate].append(c)
    for rate, clients in by_rate.items():
        Client.objects.filter(pk__in=[c["pk"] for c in clients]).update(
            commission_rate=rate, version=F("version") + 1
        )
    actor_obj = actor if getattr(actor, "pk", None) else None
    audit_bulk_append(
        {
            "actor": actor_obj, "action": "client.commission_rate", "object_type": "clients.client",
            "object_id": c["pk"], "object_repr": f"{c['client_no']} {c['name']}", "branch_id": c["branch_id"],
            "changes": {"commission_rate": [str(c["commission_rate"]) if c["commission_rate"] is not None
                                            else None, str(rate)], "reason": "潜在客户开户，适用承诺佣金率"},
        }
        for rate, clients in by_rate.items()
        for c in clients
    )  # fmt: skip
    # Tell each owner (the director for pool prospects) once.
    owner_ids = {p.owner_id for p in prospects if p.owner_id}
    users = {u.pk: u for u in User.objects.filter(pk__in=owner_ids)}
    per_owner: dict[int, list[Prospect]] = defaultdict(list)
    for p in prospects:
        if p.owner_id:
            per_owner[p.owner_id].append(p)
    for owner_id, items in per_owner.items():
        advice = [p for p in items if p.premium_offered]
        first = items[0]
        title = (
            _("潜在客户 %(n)s 已开户") % {"n": first.name}
            if len(items) == 1
            else _("%(n)s 位潜在客户已开户") % {"n": len(items)}
        )
        body = ""
        if advice:
            body = _("咨询服务型客户：%(names)s。请向其推荐高端客户服务。") % {
                "names": "、".join(p.name for p in advice[:10])
            }
        notify(
            recipients=[users[owner_id]], title=title, body=body,
            url=reverse("prospects:detail", args=[first.pk]), kind="success" if not advice else "info",
        )  # fmt: skip


CLIENT_VALUES = (
    "pk",
    "client_no",
    "name",
    "phone",
    "id_number",
    "branch_id",
    "branch__company_id",
    "commission_rate",
)


@transaction.atomic
def convert_clients(
    *, client_ids: Iterable[int], actor: Any = None, now: dt.datetime | None = None, **_payload: Any
) -> int:
    """The ``clients.created`` handler: match the new clients to open prospects of the same company by
    phone (first) or ID number and convert them, in bulk. Returns how many prospects were converted."""
    now = now or timezone.now()
    ids = list(client_ids)
    converted = 0
    if not ids or not Prospect.objects.filter(stage__in=OPEN_STAGES, client__isnull=True).exists():
        return 0  # nothing to match (the common case for large counter-system imports): one query
    for i in range(0, len(ids), 900):
        clients = list(Client.objects.filter(pk__in=ids[i : i + 900]).values(*CLIENT_VALUES))
        by_phone = {(c["branch__company_id"], c["phone"]): c for c in clients if c["phone"]}
        by_id = {(c["branch__company_id"], c["id_number"]): c for c in clients if c["id_number"]}
        if not by_phone and not by_id:
            continue
        companies = {c["branch__company_id"] for c in clients}
        candidates = list(
            Prospect.objects.select_for_update(of=("self",))
            .filter(branch__company_id__in=companies, stage__in=OPEN_STAGES, client__isnull=True)
            .filter(Q(phone__in=[k[1] for k in by_phone]) | Q(id_number__in=[k[1] for k in by_id]))
            .select_related("branch")
            .order_by("pk")
        )
        used: set[int] = set(
            Prospect.objects.filter(client_id__in=[c["pk"] for c in clients]).values_list(
                "client_id", flat=True
            )
        )
        pairs = []
        for p in candidates:
            key = p.branch.company_id
            c = by_phone.get((key, p.phone)) or (by_id.get((key, p.id_number)) if p.id_number else None)
            if c is None or c["pk"] in used:
                continue
            used.add(c["pk"])
            pairs.append((p, c))
        _convert_pairs(pairs, actor=actor, now=now)
        stages_sync(prospect_ids=[p.pk for p, _c in pairs], now=now)
        converted += len(pairs)
    return converted


@transaction.atomic
def prospect_link_client(
    *, actor: User, prospect: Prospect, client_no: str, now: dt.datetime | None = None
) -> Prospect:
    """Link a prospect to the client account they opened (by client number in the prospect's branch),
    when the automatic match by phone / ID number did not find it."""
    _require_hands_on(actor, prospect)
    now = now or timezone.now()
    prospect = Prospect.objects.select_for_update(of=("self",)).get(pk=prospect.pk)
    if prospect.stage not in OPEN_STAGES or prospect.client_id:
        raise DomainError(
            _("潜在客户处于“%(s)s”阶段，不能关联开户客户。") % {"s": prospect.get_stage_display()},
            field="client_no",
        )
    no = (client_no or "").strip().upper()
    client = Client.objects.filter(branch_id=prospect.branch_id, client_no=no).values(*CLIENT_VALUES).first()
    if client is None:
        raise DomainError(_("本营业部没有客户号为 %(no)s 的客户。") % {"no": no or "—"}, field="client_no")
    other = Prospect.objects.filter(client_id=client["pk"]).first()
    if other is not None:
        raise DomainError(
            _("客户 %(no)s 已关联潜在客户 #%(pk)s %(name)s。")
            % {"no": client["client_no"], "pk": other.pk, "name": mask_name(other.name)},
            field="client_no",
        )
    _convert_pairs([(prospect, client)], actor=actor, now=now)
    stages_sync(prospect_ids=[prospect.pk], now=now)
    prospect.refresh_from_db()
    return prospect


@transaction.atomic
def stages_sync(*, prospect_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    """ "Funded" once the linked client has assets (total assets > 0), "active" once they hold positions.
    Periodic (and right after a conversion); idempotent. Returns how many steps were taken."""
    now = now or timezone.now()
    base = Prospect.objects.select_for_update(of=("self",)).filter(client__isnull=False)
    if prospect_ids is not None:
        base = base.filter(pk__in=list(prospect_ids))
    funded = list(base.filter(stage=St.OPENED, client__total_assets__gt=0).order_by("pk"))
    _bulk_step(funded, name="fund", actor=None, now=now)
    holders = Holding.objects.filter(quantity__gt=0).values("client_id")
    active = list(base.filter(stage=St.FUNDED, client_id__in=holders).order_by("pk"))
    _bulk_step(active, name="activate", actor=None, now=now)
    return len(funded) + len(active)


def is_converted(prospect: Prospect) -> bool:
    return prospect.stage in CONVERTED_STAGES
